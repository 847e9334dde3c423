"""The wire format of the API as marshmallow schemas, from which the OpenAPI description is generated."""
