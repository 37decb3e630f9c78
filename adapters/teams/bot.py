"""The Teams bot: one turn = save the reference, act once, call the engine, answer.

Activities are read as JSON dicts and translated by :mod:`adapters.teams.activities`; outcomes
become chat replies or dialog (task module) answers. ``_create_invoke_response`` is overridden:
in botbuilder 4.17.1 the stock one serialises the body, and ``CloudAdapter.process`` then
serialises it again and fails with HTTP 500 on every invoke with a body.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import aiohttp
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler, TeamsInfo
from botbuilder.schema import Activity, ActivityTypes, Attachment
from botbuilder.schema.teams import (
    FileConsentCardResponse,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TaskModuleRequest,
    TaskModuleResponse,
    TaskModuleTaskInfo,
)

from adapters.platform import Undelivered
from adapters.runner import OUTAGE, UNREACHABLE, EngineRunner, database_unreachable
from adapters.teams import guard
from adapters.teams.activities import actor_of, command_text, conversation_of, interactions_of, user_id_of
from adapters.teams.dedupe import Deduper, activity_key
from adapters.teams.errors import classify
from adapters.teams.files import PendingFiles, consent_card, info_card, shared_files
from adapters.teams.files import fetch as fetch_file
from adapters.teams.files import upload as upload_file
from adapters.teams.form_codec import decode_form, submitted_values
from adapters.teams.messenger import mentioned_ids, message_activity
from adapters.teams.references import ReferenceStore, TeamsUser, reference_from_activity, tenant_of
from adapters.teams.render_cards import (
    CARD_CONTENT_TYPE,
    FORM_KEY,
    OPEN_FORM_KEY,
    form_card,
    home_card,
    open_form_card,
)
from adapters.teams.render_markup import to_plain
from adapters.teams.retry import DEFAULT_POLICY, Pacer, RetryPolicy, Sleep, backoff_delay
from adapters.teams.serialise import invoke_body
from conversations.core.interactions import (
    ButtonPressed,
    CloseForm,
    EngineHandle,
    FileShared,
    FormErrors,
    FormSubmitted,
    Interaction,
    NoReply,
    Outcome,
    Reply,
    ShowForm,
    ShowHome,
)
from conversations.core.views import FileAttachment, Form, Message

log = logging.getLogger(__name__)

NOT_HERE = (
    "Files come only to our 1:1 chat, and I haven't sent one. Send me the same command in our 1:1 chat "
    "and I'll offer you the file there."
)
TOO_LONG = (
    f"That message is too long for a command (I read up to {guard.MAX_TEXT_BYTES // 1024} KB). "
    "Send `help` to see what I can do."
)
SORRY = "Sorry, something went wrong on our side. Please try again in a minute."
TURN_BUDGET = 8.0  # seconds a turn may spend retrying refused replies (Teams waits about 15 s)
REPLAY_KEY = "buddy.replayed_invoke"
RAW_ACTIVITY_KEY = "buddy.raw_activity"  # the activity JSON as received: botbuilder's models drop
# fields it does not know (mention entities' ``mentioned``, ``conversation.tenantId``)


def raw_activity(turn_context: TurnContext) -> dict[str, Any]:
    raw = turn_context.turn_state.get(RAW_ACTIVITY_KEY)
    return dict(raw) if isinstance(raw, dict) else turn_context.activity.serialize()


class BuddyTeamsBot(TeamsActivityHandler):
    def __init__(
        self,
        handle: EngineHandle,
        references: ReferenceStore,
        deduper: Deduper,
        *,
        pacer: Pacer | None = None,
        after_handle: Callable[[], Awaitable[None] | None] | None = None,
        runner: EngineRunner | None = None,
        files: PendingFiles | None = None,
        sleep: Sleep = asyncio.sleep,
        policy: RetryPolicy = DEFAULT_POLICY,
        undelivered: Undelivered | None = None,
        rng: random.Random | None = None,
    ) -> None:
        super().__init__()
        self.sleep = sleep
        self.policy = policy
        self.undelivered = undelivered
        self.rng = rng or random.Random()
        self.handle = handle
        self.files = files  # files offered to people (exports), until they accept them
        self.runner = runner or EngineRunner(handle)  # the engine runs off the event loop
        self.references = references
        self.deduper = deduper
        self.pacer = pacer
        self.after_handle = after_handle

    @staticmethod
    def _create_invoke_response(body: object = None) -> InvokeResponse:
        return InvokeResponse(status=int(HTTPStatus.OK), body=body)

    # ---- the turn --------------------------------------------------------------------------

    async def on_turn(self, turn_context: TurnContext) -> None:
        try:
            await self._turn(turn_context)
        except Exception as error:
            if not database_unreachable(error):
                raise
            OUTAGE.failed(error)  # logged once per outage; the person is told
            if turn_context.activity.type == ActivityTypes.invoke:
                await _invoke_answer(turn_context, _message(UNREACHABLE))
            else:
                await self._send_quietly(turn_context, message_activity(Message.simple(UNREACHABLE)))

    async def _turn(self, turn_context: TurnContext) -> None:
        data = raw_activity(turn_context)
        await self._remember(turn_context, data)
        key = activity_key(data) if data.get("type") in ("message", "invoke", "conversationUpdate") else None
        if key:
            first, answer = await asyncio.to_thread(self.deduper.claim, key)
            if not first:
                log.info("activity delivered again; acting once")
                turn_context.turn_state[REPLAY_KEY] = answer
                if data.get("type") == "invoke":
                    await turn_context.send_activity(
                        Activity(
                            type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=answer)
                        )
                    )
                return
        try:
            await super().on_turn(turn_context)
            if key and data.get("type") == "invoke":  # the answer is stored with the claim, or both go
                await asyncio.to_thread(self.deduper.record_answer, key, _invoke_body(turn_context))
        except Exception:
            if key:
                try:
                    await asyncio.to_thread(self.deduper.release, key)
                except Exception:  # noqa: BLE001 - the claim expires with its TTL
                    log.warning("could not release a failed turn's claim")
            raise

    async def _remember(self, turn_context: TurnContext, data: dict[str, Any]) -> None:
        """Save the conversation reference and what we know of the sender, for later sends."""
        tenant = tenant_of(data)
        if not tenant:
            return
        await asyncio.to_thread(self.references.save, reference_from_activity(data), tenant)
        sender = data.get("from") or {}
        aad_id = sender.get("aadObjectId")
        if not aad_id:
            return
        known = await asyncio.to_thread(self.references.user, tenant, aad_id)
        upn = known.upn if known else ""
        if not upn and data.get("type") in ("message", "invoke"):
            upn = await _fetch_upn(turn_context, sender.get("id", ""))
        user = TeamsUser(tenant, aad_id, sender.get("id", ""), sender.get("name") or "", upn)
        if known != user:
            await asyncio.to_thread(self.references.save_user, user)

    async def _known(self, data: dict[str, Any]) -> TeamsUser | None:
        aad = (data.get("from") or {}).get("aadObjectId")
        return await asyncio.to_thread(self.references.user, tenant_of(data), aad) if aad else None

    async def _run(self, interaction: Interaction) -> Outcome:
        outcome = await self.runner(interaction)
        if self.after_handle is not None:
            result = self.after_handle()
            if asyncio.iscoroutine(result):
                await result
        return outcome

    # ---- messages and conversation updates -------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self._interactions(turn_context)

    async def on_conversation_update_activity(self, turn_context: TurnContext) -> None:
        await self._interactions(turn_context)

    async def on_installation_update(self, turn_context: TurnContext) -> None:
        """The reference is saved already; the welcome comes from the conversationUpdate that
        accompanies every install, so that an install is acted on once."""

    async def _interactions(self, turn_context: TurnContext) -> None:
        data = raw_activity(turn_context)
        known = await self._known(data)
        tenant = tenant_of(data)

        def resolve(bot_user_id: str) -> str | None:
            found = self.references.user_by_bot_id(tenant, bot_user_id)
            return found.user_id if found else None

        files = shared_files(data) if data.get("type") == "message" else []
        if files:  # the message's text is the file's caption ("import")
            caption = await asyncio.to_thread(command_text, data, resolve)
            for name, url in files:
                text, problem = await fetch_file(url)
                if problem:
                    await self._reply(turn_context, Message.simple(problem))
                    continue
                shared = FileShared(actor_of(data, known), name, text, caption, conversation_of(data))
                await self._answer_in_chat(turn_context, await self._run(shared))
            return
        if guard.too_long(str(data.get("text") or "")):
            await self._reply(turn_context, Message.simple(TOO_LONG))  # answered without parsing it
            return
        interactions = await asyncio.to_thread(interactions_of, data, known, resolve)
        for interaction in interactions:
            outcome = await self._run(interaction)
            await self._answer_in_chat(turn_context, outcome)

    async def _answer_in_chat(self, turn_context: TurnContext, outcome: Outcome) -> None:
        if isinstance(outcome, Reply):
            await self._reply(turn_context, outcome.message)
        elif isinstance(outcome, ShowForm):
            await self._reply_card(turn_context, open_form_card(outcome.form), outcome.form.title)
        elif isinstance(outcome, CloseForm) and outcome.message is not None:
            await self._reply(turn_context, outcome.message)
        elif isinstance(outcome, ShowHome):
            await self._reply_card(turn_context, home_card(outcome.home), "Your buddy scheme")
        elif isinstance(outcome, FormErrors):
            await self._reply(turn_context, Message.simple(" ".join(outcome.errors.values())))

    async def _reply(self, turn_context: TurnContext, message: Message) -> None:
        data = raw_activity(turn_context)
        if (
            message.file is not None
            and (data.get("conversation") or {}).get("conversationType", "personal") != "personal"
        ):
            message = Message.simple(NOT_HERE)  # say so, rather than claim a file that was not sent
        tenant = tenant_of(data)
        names = await asyncio.to_thread(self.references.display_names, tenant, mentioned_ids(message))
        await self._send(turn_context, message_activity(message, names), message)
        if message.file is not None:
            await self._offer_file(turn_context, message.file)

    # ---- files: offered with a consent card, uploaded once the person accepts ----------------

    async def _offer_file(self, turn_context: TurnContext, file: FileAttachment) -> None:
        data = raw_activity(turn_context)
        personal = (data.get("conversation") or {}).get("conversationType", "personal") == "personal"
        person = (data.get("from") or {}).get("aadObjectId")
        if self.files is None or not personal or not person:
            await self._send(turn_context, message_activity(Message.simple(NOT_HERE)))
            return
        file_id = await asyncio.to_thread(self.files.offer, tenant_of(data), person, file)
        await self._send(
            turn_context, Activity(type=ActivityTypes.message, attachments=[consent_card(file, file_id)])
        )

    async def _taken(
        self, turn_context: TurnContext, response: FileConsentCardResponse
    ) -> FileAttachment | None:
        data = raw_activity(turn_context)
        person = (data.get("from") or {}).get("aadObjectId")
        file_id = (response.context or {}).get("buddy_file") if isinstance(response.context, dict) else None
        if self.files is None or not person or not isinstance(file_id, str):
            return None
        return await asyncio.to_thread(self.files.take, file_id, tenant_of(data), person)

    async def on_teams_file_consent_accept(
        self, turn_context: TurnContext, file_consent_card_response: FileConsentCardResponse
    ) -> None:
        file = await self._taken(turn_context, file_consent_card_response)
        info = file_consent_card_response.upload_info
        if file is None or info is None or not info.upload_url:
            await self._reply(turn_context, Message.simple("That file is no longer waiting: ask me again."))
            return
        try:
            await upload_file(info.upload_url, file)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("upload of %s failed: %s", file.filename, type(error).__name__)
            await self._reply(
                turn_context,
                Message.simple(f"Sorry, I couldn't upload {file.filename}. Please ask me again."),
            )
            return
        await self._send(turn_context, Activity(type=ActivityTypes.message, attachments=[info_card(info)]))

    async def on_teams_file_consent_decline(
        self, turn_context: TurnContext, file_consent_card_response: FileConsentCardResponse
    ) -> None:
        if await self._taken(turn_context, file_consent_card_response) is not None:
            await self._reply(turn_context, Message.simple("All right, I haven't sent it."))

    async def _reply_card(self, turn_context: TurnContext, card: dict[str, Any], summary: str) -> None:
        activity = Activity(
            type=ActivityTypes.message,
            attachments=[Attachment(content_type=CARD_CONTENT_TYPE, content=card)],
            summary=summary,
        )
        await self._send(turn_context, activity)

    async def _send(
        self, turn_context: TurnContext, activity: Activity, message: Message | None = None
    ) -> None:
        """Send a reply in this turn. Teams may refuse it like any send (429, 412, 5xx: retried while
        the turn's budget lasts, honouring Retry-After; 403 when the person blocked Buddy). A reply
        refused for good goes to :attr:`undelivered` (the outbox sends it later; a blocked person
        is marked unreachable) instead of failing the turn."""
        spent = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                if self.pacer is not None and turn_context.activity.conversation is not None:
                    await self.pacer.acquire(turn_context.activity.conversation.id)
                await turn_context.send_activity(activity)
                return
            except Exception as error:  # noqa: BLE001 - classified below; the turn must not fail
                failure = classify(error)
            delay = backoff_delay(attempt, self.policy, self.rng, failure.retry_after)
            if failure.retryable and attempt < self.policy.attempts and spent + delay <= TURN_BUDGET:
                spent += delay
                await self.sleep(delay)
                continue
            break
        problem = failure.to_delivery_error(retryable_now=failure.retryable)
        log.warning("a reply was refused in its turn (%s) after %d tries", problem.code, attempt)
        if self.undelivered is None or message is None:
            return
        data = raw_activity(turn_context)
        sender = actor_of(data).ref
        key = f"reply:{activity_key(data) or id(activity)}:{attempt}"
        try:
            await asyncio.to_thread(self.undelivered, sender, conversation_of(data), message, problem, key)
        except Exception:  # noqa: BLE001 - the warning above stands
            log.exception("could not hand a refused reply to the outbox")

    async def _send_quietly(self, turn_context: TurnContext, activity: Activity) -> None:
        try:
            await turn_context.send_activity(activity)
        except Exception as error:  # noqa: BLE001 - best effort while the database is down
            log.warning("could not tell the person: %s", classify(error).code)

    # ---- dialogs ---------------------------------------------------------------------------

    async def on_teams_task_module_fetch(
        self, turn_context: TurnContext, task_module_request: TaskModuleRequest
    ) -> TaskModuleResponse:
        data = _invoke_data(turn_context.activity.value)
        if OPEN_FORM_KEY in data:
            try:
                form = decode_form(data[OPEN_FORM_KEY])
            except ValueError:
                return _message("That form could not be opened. Please try the command again.")
            return _dialog(form, form_card(form))
        if "action_id" in data:
            outcome = await self._run(await self._button(turn_context, data))
            return await self._answer_fetch(turn_context, outcome)
        return _message("Nothing to open here.")

    async def _button(self, turn_context: TurnContext, data: dict[str, Any]) -> ButtonPressed:
        activity = raw_activity(turn_context)
        return ButtonPressed(
            actor_of(activity, await self._known(activity)),
            str(data["action_id"]),
            str(data.get("value", "")),
            conversation_of(activity),
        )

    async def _answer_fetch(self, turn_context: TurnContext, outcome: Outcome) -> TaskModuleResponse:
        if isinstance(outcome, ShowForm):
            return _dialog(outcome.form, form_card(outcome.form))
        if isinstance(outcome, Reply):
            await self._reply(turn_context, outcome.message)
            return _message(to_plain(outcome.message.text))
        await self._answer_in_chat(turn_context, outcome)
        return _message("Done.")

    async def on_teams_task_module_submit(
        self, turn_context: TurnContext, task_module_request: TaskModuleRequest
    ) -> TaskModuleResponse | None:
        data = _invoke_data(turn_context.activity.value)
        if FORM_KEY not in data:
            if "action_id" in data:
                return await self._answer_fetch(
                    turn_context, await self._run(await self._button(turn_context, data))
                )
            return _message("That dialog has expired. Please try again.")
        try:
            form = decode_form(data[FORM_KEY])
        except ValueError:
            return _message("That form could not be read. Please try the command again.")
        activity = raw_activity(turn_context)
        values = submitted_values(form, data)
        interaction = FormSubmitted(
            actor_of(activity, await self._known(activity)), form.form_id, form.state, values
        )
        outcome = await self._run(interaction)
        if isinstance(outcome, FormErrors):
            return _dialog(form, form_card(form, values, outcome.errors))
        if isinstance(outcome, ShowForm):
            return _dialog(outcome.form, form_card(outcome.form))
        if isinstance(outcome, CloseForm | Reply) and outcome.message is not None:
            await self._reply(turn_context, outcome.message)
        elif isinstance(outcome, ShowHome):
            await self._answer_in_chat(turn_context, outcome)
        elif not isinstance(outcome, CloseForm | NoReply):
            log.warning("unexpected outcome to a form: %s", type(outcome).__name__)
        return None  # an empty answer closes the dialog

    async def on_adaptive_card_invoke(self, turn_context: TurnContext, invoke_value: Any) -> Any:
        """``Action.Execute`` (Buddy's cards use Action.Submit, but a client may send these). The
        answer's body is built by hand: botbuilder's ``AdaptiveCardInvokeResponse`` types ``value``
        as a dict, and a text value fails in its serialiser after the action has run."""
        value = turn_context.activity.value
        action = value.get("action") if isinstance(value, dict) else None
        found = action.get("data") if isinstance(action, dict) else None
        data: dict[str, Any] = found if isinstance(found, dict) else {}
        if "action_id" not in data:
            return {"statusCode": 400, "type": "application/vnd.microsoft.error",
                    "value": {"code": "BadRequest", "message": "This card has no action Buddy knows."}}  # fmt: skip
        outcome = await self._run(await self._button(turn_context, data))
        await self._answer_in_chat(turn_context, outcome)
        text = to_plain(outcome.message.text) if isinstance(outcome, Reply) else "Done."
        return {"statusCode": 200, "type": "application/vnd.microsoft.activity.message", "value": text}


def _invoke_data(value: Any) -> dict[str, Any]:
    data = (value or {}).get("data") if isinstance(value, dict) else None
    return dict(data) if isinstance(data, dict) else {}


def _dialog(form: Form, card: dict[str, Any]) -> TaskModuleResponse:
    info = TaskModuleTaskInfo(
        title=form.title,
        card=Attachment(content_type=CARD_CONTENT_TYPE, content=card),
        width="medium",
        height="large",
    )
    return TaskModuleResponse(task=TaskModuleContinueResponse(value=info))


async def _invoke_answer(turn_context: TurnContext, body: Any) -> None:
    await turn_context.send_activity(
        Activity(type=ActivityTypes.invoke_response, value=InvokeResponse(status=200, body=body))
    )


def _message(text: str) -> TaskModuleResponse:
    return TaskModuleResponse(task=TaskModuleMessageResponse(value=text))


def _invoke_body(turn_context: TurnContext) -> Any:
    response = turn_context.turn_state.get(turn_context.adapter._INVOKE_RESPONSE_KEY)  # noqa: SLF001
    return invoke_body(response.value) if response is not None and response.value is not None else None


async def _fetch_upn(turn_context: TurnContext, bot_user_id: str) -> str:
    """The sender's UPN from the roster (one connector call per new person; best effort)."""
    if not bot_user_id:
        return ""
    try:
        member = await TeamsInfo.get_member(turn_context, bot_user_id)
    except Exception as error:  # noqa: BLE001 - a missing UPN only disables deep links for them
        log.info("cannot read the roster entry of a sender: %s", type(error).__name__)
        return ""
    return str(getattr(member, "user_principal_name", "") or getattr(member, "email", "") or "")


__all__ = ["BuddyTeamsBot", "user_id_of"]
