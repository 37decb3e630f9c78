"""A messenger whose posts land in an append-only file (fsync'd), shared by processes.

The file is the platform: a post that reached it has landed, whatever happens to the sender
after; ``find_tagged`` reads it back, as Slack's history would.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from conversations.core.refs import ConversationRef, MessageRef, UserRef
from conversations.core.views import Home, Message
from conversations.ports.messenger import Capabilities

PLATFORM = "ledger"


class LedgerMessenger:
    capabilities = Capabilities(group_dm=False)

    def __init__(self, path: Path, name: str = "sender", *, delay: float = 0.0, block_after: int = 0) -> None:
        self.path = path
        self.name = name
        self.delay = delay
        self.block_after = block_after  # land this many posts, then hang (the process is about to be killed)
        self.count = 0

    async def open_dm(self, user: UserRef) -> ConversationRef:
        return ConversationRef(PLATFORM, user.workspace, f"D-{user.user_id}")

    async def open_group(self, users: Sequence[UserRef], topic: str = "") -> ConversationRef:
        return ConversationRef(PLATFORM, users[0].workspace, "G-" + "-".join(u.user_id for u in users))

    async def post(self, conversation: ConversationRef, message: Message, *, tag: str = "") -> MessageRef:
        number = self.count
        self.count += 1
        if self.block_after and number >= self.block_after:
            await asyncio.Event().wait()  # never lands
        if self.delay:
            await asyncio.sleep(self.delay)
        line = f"{tag}\t{conversation.conversation_id}\t{self.name}\n".encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if self.block_after and number + 1 == self.block_after:
            await asyncio.Event().wait()  # landed, but the sender never hears back
        return MessageRef(conversation, f"{self.name}-{number}")

    async def find_tagged(self, conversation: ConversationRef, tag: str) -> MessageRef | None:
        for entry in read(self.path):
            if entry[0] == tag and entry[1] == conversation.conversation_id:
                return MessageRef(conversation, "found")
        return None

    async def update(self, ref: MessageRef, message: Message) -> None:
        return None

    async def publish_home(self, user: UserRef, home: Home) -> None:
        return None


def read(path: Path) -> list[tuple[str, str, str]]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        tag, conversation, name = line.split("\t")
        rows.append((tag, conversation, name))
    return rows


def tags(path: Path) -> Counter[str]:
    return Counter(tag for tag, _, _ in read(path))
