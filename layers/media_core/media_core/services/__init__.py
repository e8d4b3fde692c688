"""Use cases over the ports (media_core.ports): uploads, queries, management, deletion,
cleanup and the reaper. No boto3, no HTTP."""
