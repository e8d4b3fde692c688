"""The HTTP contract shared by the API functions: error map, models, parameters."""
