"""HTTP, SSE and WebSocket surface: thin routes over the services."""
