"""The Slack adapter: Bolt app, Block Kit rendering and the Slack Messenger.

Nothing outside this package imports ``slack_bolt`` or ``slack_sdk``.
"""
