"""Web Push alerts (RFC 8030 transport, RFC 8291 aes128gcm, RFC 8292 VAPID) via ``pywebpush``.

- ``keys``: VAPID keys from the settings, and new pairs (``python -m lib.push keys``);
- ``notices``: what an advance of the engine has to tell, as ``Notice`` values (pure);
- ``quiet``: who wants which notice, repeats about one incident collapsed, catch-ups marked late
  and capped (pure);
- ``payload``: the JSON the service worker shows, and TTL/Urgency/Topic by level (pure);
- ``queue``: notices waiting in the KV, claimed exactly once;
- ``sender``: one push over HTTP with a timeout, retries and the push service's answer;
- ``dispatch``: ``PushDispatch``, the engine's notifier (records) and the fan-out (sends).

``pywebpush`` (which imports ``aiohttp`` and ``requests``) is imported only when sending.
"""
