"""Image domain logic: verify, decode safely, normalise, render presets, fingerprint. Import the
module you need; this package imports nothing, so that a path loads only its own libraries (the
transform function has no use for the fingerprints' numpy, ~115 ms of a cold start):

  image_job   process_image: an uploaded photo's variants, metadata and fingerprints
  render      render_variants: presets from a decoded image (posters, cover art, PDF previews)
  transform   render_transform: one on-demand rendition (the transform function)
  decode      decode_upright: decode at scale, upright 8-bit sRGB
  guards      ImageLimits and the header checks made before any pixel is decoded
  formats, sniff, normalize, metadata, presets, hashing, similarity: their parts

Importing any of them imports Pillow: keep them out of the API functions.
"""
