"""Bolt listeners: Slack payload -> interaction -> ``Engine.handle`` -> Slack's answer.

Every listener runs with ``process_before_response=True``: Bolt sends the HTTP answer when the
listener returns, so what happens before ``return`` is the acknowledgement path (3 s deadline) and
anything slower goes to :class:`~adapters.slack.background.Background`.

- ``/buddy``: the engine runs inside the ack (its reply *is* the ack body). If it has not answered
  within ``ack_budget`` seconds we ack "Working on it…" and deliver the answer via ``response_url``.
- Buttons: ack at once; the engine runs right after, then the modal opens with the trigger
  (valid 3 s from the click), or the reply goes to ``response_url``.
- Modal submissions: the engine runs inside the ack, since field errors and a next step must be in
  the ack body.
- Events (Home opened, member joined): Bolt acks them; each ``event_id`` is claimed first, so
  Slack's retries of the same event do nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.runner import EngineRunner
from adapters.slack import payloads
from adapters.slack.background import Background
from adapters.slack.client import post_response
from adapters.slack.dedupe import EventDedupe
from adapters.slack.errors import TRANSPORT_ERRORS, api_error_code
from adapters.slack.files import fetch_uploads
from adapters.slack.guard import MAX_COMMAND_TEXT, TOO_LONG
from adapters.slack.profiles import EMPTY, Profile, Profiles
from adapters.slack.render_blocks import RenderError, render_home, render_message, render_modal
from conversations.core.interactions import (
    RUN_COMMAND,
    CloseForm,
    EngineHandle,
    FormErrors,
    Interaction,
    NoReply,
    Outcome,
    Reply,
    ShowForm,
    ShowHome,
)
from conversations.core.views import Actions, Button, FileAttachment, Message, Section

log = logging.getLogger(__name__)

JSON = dict[str, Any]

SORRY = "Sorry, something went wrong on our side. Please try again in a minute."
WORKING = "Working on it…"
TOO_SLOW = "Sorry, that took too long to open. Please try again."
FORM_ERROR_KEY = "_form"


class SlackInbound:
    def __init__(
        self,
        engine_handle: EngineHandle,
        *,
        background: Background,
        dedupe: EventDedupe,
        profiles: Profiles | None = None,
        ack_budget: float = 2.0,
        profile_wait: float = 0.3,
        runner: EngineRunner | None = None,
    ) -> None:
        self.engine_handle = engine_handle
        self.runner = runner or EngineRunner(engine_handle)  # the engine runs off the event loop
        self.background = background
        self.dedupe = dedupe
        self.profiles = profiles
        self.ack_budget = ack_budget  # seconds the engine may take inside an ack
        self.profile_wait = profile_wait  # seconds a users.info cache miss may add to an ack

    def register(self, app: AsyncApp) -> None:
        app.command(re.compile(r"^/"))(self.on_command)
        app.action(re.compile(r".*"))(self.on_action)
        app.view(re.compile(r".*"))(self.on_view_submission)
        app.event("app_home_opened")(self.on_home_opened)
        app.event("member_joined_channel")(self.on_member_joined)
        app.event("message")(self.on_direct_message)

    # ---- engine ----------------------------------------------------------------------------

    async def _engine(self, interaction: Interaction, fallback: Outcome, urgent: bool = False) -> Outcome:
        try:
            return await self.runner(interaction, urgent=urgent)
        except Exception:
            log.exception("engine failed on %s", type(interaction).__name__)
            return fallback

    async def _engine_within(
        self, interaction: Interaction, fallback: Outcome, budget: float | None = None
    ) -> tuple[Outcome | None, asyncio.Future[Outcome]]:
        """The outcome if the engine answers within the ack budget (or ``budget`` seconds), else
        None (it keeps going)."""
        future = asyncio.ensure_future(self._engine(interaction, fallback, urgent=True))  # an ack waits
        done, _ = await asyncio.wait({future}, timeout=self.ack_budget if budget is None else budget)
        return (future.result() if done else None), future

    async def _profile(self, client: AsyncWebClient, team: str, user: str, wait: float) -> Profile:
        if self.profiles is None or not user:
            return EMPTY
        return await self.profiles.get(client, team, user, wait)

    # ---- /buddy ----------------------------------------------------------------------------

    async def on_command(self, ack: AsyncAck, body: JSON, client: AsyncWebClient) -> None:
        profile = await self._profile(
            client, payloads.team_of(body), body.get("user_id", ""), self.profile_wait
        )
        interaction = payloads.command(body, profile.display_name, profile.email)
        outcome, pending = await self._engine_within(interaction, Reply(Message.simple(SORRY)))
        if outcome is None:
            await ack(response_type="ephemeral", text=WORKING)
            self.background.spawn(self._late(pending, body, client), "slack-late-command")
            return
        message = _message_of(outcome)
        if message is not None:
            await ack(response_type="ephemeral", **render_message(message))
            self._file_of(body, client, message)
            return
        await ack()
        self._follow_up(outcome, body, client)

    async def _late(self, pending: asyncio.Future[Outcome], body: JSON, client: AsyncWebClient) -> None:
        self._follow_up(await pending, body, client)

    # ---- buttons ---------------------------------------------------------------------------

    async def on_action(self, ack: AsyncAck, body: JSON, client: AsyncWebClient) -> None:
        await ack()
        self.background.spawn(self._action(body, client), "slack-action")

    async def _action(self, body: JSON, client: AsyncWebClient) -> None:
        user = (body.get("user") or {}).get("id", "")
        profile = await self._profile(client, payloads.team_of(body), user, self.profile_wait)
        interaction = payloads.button(body, profile.display_name, profile.email)
        if interaction is None:
            return
        outcome = await self._engine(interaction, Reply(Message.simple(SORRY)))
        self._follow_up(outcome, body, client)

    # ---- what happens after the ack ---------------------------------------------------------

    def _follow_up(self, outcome: Outcome, body: JSON, client: AsyncWebClient) -> None:
        message = _message_of(outcome)
        if message is not None:
            self.background.spawn(self._reply(body, client, message), "slack-reply")
            self._file_of(body, client, message)
        elif isinstance(outcome, ShowForm):
            self.background.spawn(self._open_modal(body, client, outcome), "slack-views-open")
        elif isinstance(outcome, ShowHome):
            self.background.spawn(self._publish_home(body, client, outcome), "slack-views-publish")

    async def _open_modal(self, body: JSON, client: AsyncWebClient, outcome: ShowForm) -> None:
        try:
            view = render_modal(outcome.form)
        except RenderError:
            log.exception("cannot render form %s", outcome.form.form_id)
            await self._reply(body, client, Message.simple(SORRY))
            return
        try:
            await client.views_open(trigger_id=body["trigger_id"], view=view)
        except SlackApiError as e:
            code = api_error_code(e)
            log.warning("views.open failed: %s", code)
            await self._reply(body, client, Message.simple(TOO_SLOW if "trigger" in code else SORRY))

    async def _publish_home(self, body: JSON, client: AsyncWebClient, outcome: ShowHome) -> None:
        user = _user_id(body)
        try:
            await client.views_publish(user_id=user, view=render_home(outcome.home))
        except (SlackApiError, *TRANSPORT_ERRORS) as e:
            log.warning("views.publish failed for %s: %s", user, _describe(e))

    async def _reply(self, body: JSON, client: AsyncWebClient, message: Message) -> None:
        """Only the actor sees it: ``response_url`` when Slack gave one, else the app's DM."""
        rendered = render_message(message)
        response_url = body.get("response_url")
        try:
            if response_url:
                answer = {"response_type": "ephemeral", "replace_original": False, **rendered}
                status = await post_response(getattr(client, "session", None), response_url, answer)
                if status < 400:
                    return
                log.warning("response_url answered %s; sending a DM instead", status)
            await client.chat_postMessage(channel=_user_id(body), **rendered)
        except (SlackApiError, *TRANSPORT_ERRORS) as e:
            log.warning("could not answer %s: %s", _user_id(body), _describe(e))

    def _file_of(self, body: JSON, client: AsyncWebClient, message: Message) -> None:
        """A message's file follows it, in the person's DM."""
        if message.file is not None:
            self.background.spawn(self._send_file(body, client, message.file), "slack-file")
        if message.image is not None:  # a chart: uploaded to the DM, after the answer
            image = message.image
            self.background.spawn(self._send_file(body, client, FileAttachment(
                image.filename, "", title=image.alt[:250], data=image.png)), "slack-image")  # fmt: skip

    async def _send_file(self, body: JSON, client: AsyncWebClient, file: FileAttachment) -> None:
        """Upload ``file`` to the person's DM with the app (``files:write``)."""
        user = _user_id(body)
        try:
            opened = await client.conversations_open(users=user)
            await client.files_upload_v2(
                channel=opened["channel"]["id"],
                content=file.data or file.content,
                filename=file.filename,
                title=file.title or file.filename,
            )
        except (SlackApiError, SlackRequestError, *TRANSPORT_ERRORS) as e:
            reason = _describe(e) if not isinstance(e, SlackRequestError) else "the upload failed"
            log.warning("could not send %s to %s: %s", file.filename, user, reason)
            hint = (
                " Whoever installed Buddy may need to reinstall it (files:write)."
                if "scope" in reason
                else ""
            )
            await self._dm(
                client, user, Message.simple(f"Sorry, I couldn't send you {file.filename} ({reason}).{hint}")
            )

    # ---- modal submissions -----------------------------------------------------------------

    async def on_view_submission(self, ack: AsyncAck, body: JSON, client: AsyncWebClient) -> None:
        started = asyncio.get_running_loop().time()
        view = body.get("view") or {}
        user = _user_id(body)
        profile = await self._profile(client, payloads.team_of(body), user, self.profile_wait)
        files, problems = await fetch_uploads(client, view)
        if problems:  # the engine never sees a submission whose file we could not read
            await ack(response_action="errors", errors=payloads.field_errors(problems, view))
            return
        interaction = payloads.form_submission(body, profile.display_name, profile.email, files)
        budget = max(0.5, self.ack_budget - (asyncio.get_running_loop().time() - started))
        outcome, pending = await self._engine_within(interaction, FormErrors({FORM_ERROR_KEY: SORRY}), budget)
        if outcome is None:
            await ack()  # the modal closes; the result follows in the app's DM
            self.background.spawn(self._late_submission(pending, body, client), "slack-late-submission")
            return
        if isinstance(outcome, FormErrors):
            await self._ack_errors(ack, outcome, view)
        elif isinstance(outcome, ShowForm):
            try:
                await ack(response_action="update", view=render_modal(outcome.form))
            except RenderError:
                log.exception("cannot render form %s", outcome.form.form_id)
                await self._ack_errors(ack, FormErrors({FORM_ERROR_KEY: SORRY}), view)
        else:
            await ack()
            self._after_submission(outcome, body, client)

    async def _ack_errors(self, ack: AsyncAck, outcome: FormErrors, view: JSON) -> None:
        if payloads.input_block_ids(view):
            await ack(response_action="errors", errors=payloads.field_errors(outcome.errors, view))
        else:  # nothing to pin an error to: show it in place of the form
            notice = {
                "type": "modal",
                "title": view.get("title") or {"type": "plain_text", "text": "Buddy"},
                "close": {"type": "plain_text", "text": "Close"},
                "blocks": render_message(Message.simple(" ".join(outcome.errors.values())))["blocks"],
            }
            await ack(response_action="update", view=notice)

    async def _late_submission(
        self, pending: asyncio.Future[Outcome], body: JSON, client: AsyncWebClient
    ) -> None:
        outcome = await pending
        if isinstance(outcome, FormErrors):
            text = "I couldn't save that form: " + " ".join(outcome.errors.values())
            await self._dm(client, _user_id(body), Message.simple(text))
        else:
            self._after_submission(outcome, body, client)

    def _after_submission(self, outcome: Outcome, body: JSON, client: AsyncWebClient) -> None:
        message = _message_of(outcome)
        if message is not None:
            self.background.spawn(self._dm(client, _user_id(body), message), "slack-confirm")
        elif isinstance(outcome, ShowHome):
            self.background.spawn(self._publish_home(body, client, outcome), "slack-views-publish")

    async def _dm(self, client: AsyncWebClient, user: str, message: Message) -> None:
        try:
            await client.chat_postMessage(channel=user, **render_message(message))
        except (SlackApiError, *TRANSPORT_ERRORS) as e:
            log.warning("could not DM %s: %s", user, _describe(e))

    # ---- events ----------------------------------------------------------------------------

    async def on_home_opened(self, body: JSON, event: JSON, client: AsyncWebClient) -> None:
        if event.get("tab") != "home":
            return
        await self._once(body, lambda: self._event(body, client, payloads.home_opened))

    async def on_member_joined(self, body: JSON, event: JSON, client: AsyncWebClient, context: Any) -> None:
        if event.get("user") == context.get("bot_user_id"):
            return  # the bot itself was added to a channel
        await self._once(body, lambda: self._event(body, client, payloads.member_joined))

    async def on_direct_message(self, body: JSON, client: AsyncWebClient) -> None:
        """The same words as ``/buddy``, typed in the DM with the app; the answer goes there."""
        if payloads.direct_message(body) is None:
            return
        await self._once(body, lambda: self._direct(body, client))

    async def _direct(self, body: JSON, client: AsyncWebClient) -> None:
        event = body["event"]
        if len(event.get("text") or "") > MAX_COMMAND_TEXT:  # answered without parsing it
            await self._dm(client, event["user"], Message.simple(TOO_LONG))
            return
        profile = await self._profile(client, payloads.team_of(body), event["user"], wait=2.0)
        interaction = payloads.direct_message(body, profile.display_name, profile.email)
        assert interaction is not None
        outcome = await self._engine(interaction, Reply(Message.simple(SORRY)))
        channel = event.get("channel") or event["user"]
        if isinstance(outcome, ShowForm):  # no trigger in a message event: a click opens the form
            text = f"Press the button to open *{outcome.form.title}*."
            outcome = Reply(Message(text, (Section(text), Actions((Button(
                outcome.form.title[:75] or "Open the form", RUN_COMMAND, interaction.text, opens_form=True),)))))  # fmt: skip
        message = _message_of(outcome)
        if message is not None:
            try:
                await client.chat_postMessage(channel=channel, **render_message(message))
            except (SlackApiError, *TRANSPORT_ERRORS) as e:
                log.warning("could not answer a DM from %s: %s", event["user"], _describe(e))
            self._file_of(body, client, message)
        elif isinstance(outcome, ShowHome):
            await self._publish_home(body, client, outcome)

    async def _once(self, body: JSON, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` in the background for the first delivery of this ``event_id`` only."""
        event_id = body.get("event_id")
        if event_id and not await self.dedupe.claim(event_id):
            log.info("duplicate delivery of %s ignored", event_id)
            return

        async def run() -> None:
            try:
                await work()
            except Exception:
                if event_id:
                    await self.dedupe.release(event_id)
                raise

        self.background.spawn(run(), "slack-event")

    async def _event(self, body: JSON, client: AsyncWebClient, translate: Callable[..., Interaction]) -> None:
        user = body["event"]["user"]
        profile = await self._profile(client, payloads.team_of(body), user, wait=2.0)
        outcome = await self._engine(translate(body, profile.display_name, profile.email), NoReply())
        if isinstance(outcome, ShowHome):
            await self._publish_home(body, client, outcome)
        message = _message_of(outcome)
        if message is None:
            return
        channel = body["event"].get("channel")
        if body["event"].get("type") == "member_joined_channel" and channel:
            try:
                await client.chat_postEphemeral(channel=channel, user=user, **render_message(message))
                return
            except (SlackApiError, *TRANSPORT_ERRORS) as e:
                log.warning("ephemeral welcome failed: %s", _describe(e))
        await self._dm(client, user, message)


def _message_of(outcome: Outcome) -> Message | None:
    if isinstance(outcome, Reply):
        return outcome.message
    if isinstance(outcome, CloseForm):
        return outcome.message
    if isinstance(outcome, FormErrors):  # not after a form: say it in words
        return Message.simple(" ".join(outcome.errors.values()))
    return None


def _user_id(body: JSON) -> str:
    return (
        body.get("user_id") or (body.get("user") or {}).get("id") or (body.get("event") or {}).get("user", "")
    )


def _describe(error: BaseException) -> str:
    return api_error_code(error) if isinstance(error, SlackApiError) else type(error).__name__
