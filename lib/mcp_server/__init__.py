"""The fleet as tools for AI clients: an MCP server ("openmanager") served at ``/api/mcp``.

- ``calls``: who is calling and with what, for one MCP request (no SDK import);
- ``tools``: the tool table; every tool runs the REST route's own function on the REST
  route's own query model, so its numbers are the API's numbers;
- ``resources``: the failure catalogue and the topology;
- ``server``: the SDK's low-level server over the Streamable HTTP transport, stateless.

Only ``server`` imports the ``mcp`` SDK, and only ``lib/http/routes/mcp.py`` imports
``server``, on the first request to ``/api/mcp``: other routes' cold start does not pay for it.
"""
