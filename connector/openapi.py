"""`python -m connector.openapi`: print the OpenAPI schema (for the UI's typed client)."""

from __future__ import annotations

import json
import sys

from connector.config import Settings
from connector.main import create_app


def main() -> None:
    schema = create_app(Settings(openai_api_key=None, api_token=None)).openapi()
    json.dump(schema, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
