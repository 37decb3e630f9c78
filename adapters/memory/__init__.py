"""The in-memory messenger and a chat harness: used by the tests and the demo."""

from adapters.memory.messenger import MemoryMessenger, Post

__all__ = ["MemoryMessenger", "Post"]
