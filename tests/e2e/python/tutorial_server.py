"""The reference tutorial's Python MCP resource server (config.py, token_verifier.py, server.py),
ported from FastMCP (mcp 1.x) to MCPServer (mcp 2.x) and otherwise unchanged: it builds Keycloak's
URLs itself from AUTH_HOST/AUTH_PORT/AUTH_REALM and introspects every token with client_secret_post.
The end-to-end suite runs it against a real Keycloak and against Gatehouse's AUTH_COMPAT=keycloak
layout, to prove code written for Keycloak works unchanged against Gatehouse.
"""

import datetime
import logging
import os
from typing import Any
from urllib.parse import urljoin

import httpx
from pydantic import AnyHttpUrl

from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer
from mcp.shared.auth_utils import check_resource_allowed, resource_url_from_server_url

logger = logging.getLogger(__name__)


class Config:
    HOST: str = os.getenv("HOST", "localhost")
    PORT: int = int(os.getenv("PORT", "3000"))
    AUTH_HOST: str = os.getenv("AUTH_HOST", "localhost")
    AUTH_PORT: int = int(os.getenv("AUTH_PORT", "8080"))
    AUTH_REALM: str = os.getenv("AUTH_REALM", "master")
    OAUTH_CLIENT_ID: str = os.getenv("OAUTH_CLIENT_ID", "test-client")
    OAUTH_CLIENT_SECRET: str = os.getenv("OAUTH_CLIENT_SECRET", "")
    MCP_SCOPE: str = os.getenv("MCP_SCOPE", "mcp:tools")

    @property
    def server_url(self) -> str:
        return f"http://{self.HOST}:{self.PORT}"

    @property
    def auth_base_url(self) -> str:
        return f"http://{self.AUTH_HOST}:{self.AUTH_PORT}/realms/{self.AUTH_REALM}/"


config = Config()


class IntrospectionTokenVerifier(TokenVerifier):
    """The tutorial's RFC 7662 verifier: introspect, require active, check aud against the server."""

    def __init__(self, introspection_endpoint: str, server_url: str, client_id: str, client_secret: str):
        self.introspection_endpoint = introspection_endpoint
        self.server_url = server_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.resource_url = resource_url_from_server_url(server_url)

    async def verify_token(self, token: str) -> AccessToken | None:
        if not self.introspection_endpoint.startswith(("https://", "http://localhost", "http://127.0.0.1")):
            return None
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)) as client:
            try:
                response = await client.post(
                    self.introspection_endpoint,
                    data={"token": token, "client_id": self.client_id, "client_secret": self.client_secret},
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                )
                if response.status_code != 200:
                    logger.warning("introspection answered HTTP %s", response.status_code)
                    return None
                data = response.json()
                if not data.get("active", False):
                    return None
                if not self._validate_resource(data):
                    logger.warning("token audience does not name %s", self.resource_url)
                    return None
                return AccessToken(
                    token=token,
                    client_id=data.get("client_id", "unknown"),
                    scopes=data.get("scope", "").split() if data.get("scope") else [],
                    expires_at=data.get("exp"),
                    resource=self.resource_url,
                    subject=data.get("sub"),
                )
            except Exception:
                logger.exception("introspection failed")
                return None

    def _validate_resource(self, token_data: dict[str, Any]) -> bool:
        aud: list[str] | str | None = token_data.get("aud")
        if isinstance(aud, list):
            return any(check_resource_allowed(self.resource_url, a) for a in aud)
        if isinstance(aud, str):
            return check_resource_allowed(self.resource_url, aud)
        return False


def create_server() -> MCPServer:
    auth_base_url = config.auth_base_url
    token_verifier = IntrospectionTokenVerifier(
        introspection_endpoint=urljoin(auth_base_url, "protocol/openid-connect/token/introspect"),
        server_url=config.server_url,
        client_id=config.OAUTH_CLIENT_ID,
        client_secret=config.OAUTH_CLIENT_SECRET,
    )
    app = MCPServer(
        name="MCP Resource Server",
        instructions="Resource Server that validates tokens via Authorization Server introspection",
        token_verifier=token_verifier,
        auth=AuthSettings(
            issuer_url=AnyHttpUrl(auth_base_url),
            required_scopes=[config.MCP_SCOPE],
            resource_server_url=AnyHttpUrl(config.server_url),
            validate_token_resource=True,
        ),
    )

    @app.tool()
    async def add_numbers(a: float, b: float) -> dict[str, Any]:
        """Add two numbers together."""
        return {
            "operation": "addition",
            "operand_a": a,
            "operand_b": b,
            "result": a + b,
            "timestamp": datetime.datetime.now().isoformat(),
        }

    @app.tool()
    async def multiply_numbers(x: float, y: float) -> dict[str, Any]:
        """Multiply two numbers together."""
        return {
            "operation": "multiplication",
            "operand_x": x,
            "operand_y": y,
            "result": x * y,
            "timestamp": datetime.datetime.now().isoformat(),
        }

    return app


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    create_server().run(transport="streamable-http", host=config.HOST, port=config.PORT, streamable_http_path="/")
