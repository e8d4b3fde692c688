"""media_core: the domain of the media pipeline, shared by every function as a Lambda layer.

Layers, one direction: handlers (functions/*/app.py) -> logic (uploads, access, processing,
imaging, documents, av) -> data access (repository, storage). Nothing here knows an event shape.
"""
