"""Check real responses against the published contract, docs/openapi.yaml (openapi-core)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import requests
from openapi_core import Config, OpenAPI
from openapi_core.contrib.requests import RequestsOpenAPIRequest, RequestsOpenAPIResponse

SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"


@lru_cache(maxsize=1)
def contract() -> OpenAPI:
    # Problem details are JSON too; openapi-core only knows application/json by default.
    config = Config(extra_media_type_deserializers={"application/problem+json": json.loads})
    return OpenAPI.from_file_path(str(SPEC), config=config)


def assert_conforms(response: requests.Response) -> requests.Response:
    """Raise unless the response (status, headers, content type, body) is what the contract says
    for its request. Returns the response, so a test can write `assert_conforms(requests.get(...))`."""
    request = response.request
    # The contract's server is `/`: compare paths, whatever port the function listens on.
    parts = urlsplit(request.url)
    request.url = urlunsplit(("http", "localhost", parts.path, parts.query, ""))
    contract().validate_response(RequestsOpenAPIRequest(request), RequestsOpenAPIResponse(response))
    return response
