"""media_core: the media pipeline's code shared by every function as a Lambda layer.

Layers, one direction (tests/infrastructure/test_layer_rules.py enforces it):

  functions/*/app.py   handlers: parse the event, call a service, shape the response
  api/                 the HTTP contract: error map, request/response models, path parameters
  services/            use cases (uploads, queries, management, deletion, cleanup, reaper)
  processing/          claim -> pin -> work -> finish, shared by every processor; one module per kind
  engines/             media work on bytes and files (imaging/, av/, documents/): no AWS
  domain/              records, status machine, kinds, keys, access rules, errors: pure
  ports.py             the Protocols services and processing depend on
  dal/                 DynamoDB, S3, SQS, EventBridge: the only package that imports boto3
  wiring.py            cached factories: the dal objects behind the ports, built once per cold start
  settings.py          typed environment configuration, read once
  observability.py     Powertools metrics (EMF) in one place
"""
