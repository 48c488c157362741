"""The HTTP shell: the FastAPI app, its routes, auth, rate limits, SSE and error handlers."""
