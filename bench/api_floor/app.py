"""The floor of an API function of this design, with no code of this project: Powertools' REST
resolver with its OpenAPI validation, one pydantic model, and the two clients every API function
here needs (the DynamoDB table, S3 for signed URLs), built at import as Lambda's init phase does;
its one route reads DynamoDB. bench/bench_cold_start.py measures it as the `api-floor` row: what
no change to media_core can take off an API function's cold start."""

from __future__ import annotations

from typing import Annotated, Any

import boto3
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.params import Path
from pydantic import BaseModel

app = APIGatewayRestResolver(enable_validation=True)
table = boto3.resource("dynamodb").Table("bench")
s3 = boto3.client("s3")


class Item(BaseModel):
    item_id: str
    name: str


@app.get("/items/<item_id>")
def get_item(item_id: Annotated[str, Path(pattern="^[0-9a-f]{32}$")]) -> Item:
    found = table.get_item(Key={"pk": item_id}).get("Item")
    if found is None:
        raise NotFoundError(f"no item {item_id}")
    return Item(item_id=item_id, name=str(found["name"]))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
