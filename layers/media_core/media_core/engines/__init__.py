"""Media work on bytes and files: imaging (Pillow), av (ffmpeg), documents. No AWS."""
