"""Data access: the only package that imports boto3. Implements media_core.ports."""
