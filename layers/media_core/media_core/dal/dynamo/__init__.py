"""DynamoDB: the key scheme (keys), expressions, paging, and the repositories."""
