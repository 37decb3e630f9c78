"""The buddy scheme itself: platform-agnostic, storage-agnostic.

Nothing here imports a platform SDK, a web framework or a database driver; the adapters and
storage packages plug into the ports defined in :mod:`conversations.ports.messenger` and
:mod:`conversations.ports.store`.
"""
