"""Floors measured in the same run: what the server or the socket layer costs alone.

* ``asgi_app``: a bare ASGI app under daphne returning fixed bytes (server floor).
* ``ws_broadcast``: a bare ``websockets`` server that relays Redis PUBLISH to every
  socket with ``broadcast()`` (fan-out and latency floor).
* ``django_project``: a fresh ``startproject``-style Django project with one JSON
  view (cold-start floor).
"""
