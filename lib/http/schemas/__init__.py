"""Request and response models of the HTTP API, one module per resource.

They are the API's contract: ``/api/openapi.json`` is generated from them, and the dashboard and
the AI assistant read the same figures through them.
"""
