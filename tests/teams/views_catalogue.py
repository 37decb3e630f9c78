"""Representative neutral views: every block and field kind, long texts, user text, mentions."""

from __future__ import annotations

from conversations.core.markup import escape
from conversations.core.views import (
    Actions,
    Button,
    Checkbox,
    Context,
    DateField,
    Divider,
    FileUpload,
    Form,
    Header,
    Home,
    LongText,
    Message,
    MultiSelect,
    Note,
    Option,
    Section,
    Select,
    ShortText,
)

USER_TEXT = "I *love* _this_ [click](http://evil.example) <at>everyone</at> & {@x} \\o/"
LONG = "A long letter about rota gaps and shadowing. " * 120

MESSAGES: dict[str, Message] = {
    "simple": Message.simple(
        "Hello **Alice**, welcome to _Buddy_. See [the guide](https://example.org/guide)."
    ),
    "every_block": Message(
        text="Your buddy is Bob",
        blocks=(
            Header("Meet your buddy"),
            Section("You are matched with {@bob} for the **North** cohort."),
            Section("", fields=(("Role", "Management trainee"), ("Trust", "Leeds _Teaching_"))),
            Divider(),
            Context("Matched because you both like **audit**."),
            Actions(
                (
                    Button("Answer the task", "task.open", "task-1", style="primary"),
                    Button("Pause", "pause", style="danger"),
                    Button("Guide", "guide", url="https://example.org/guide"),
                    Button("Later", "later", "x"),
                )
            ),
            Divider(),
        ),
    ),
    "user_text": Message(
        text="Bob answered",
        blocks=(Section("**Bob wrote:**\n" + escape(USER_TEXT)),),
        carries_user_text=True,
    ),
    "bullets_and_long": Message(text="Digest", blocks=(Section("- one\n- two\n- three"), Section(LONG))),
    "text_only": Message(text="Just the summary", blocks=()),
}

FORMS: dict[str, Form] = {
    "every_field": Form(
        form_id="register",
        title="Join the buddy scheme",
        fields=(
            Note("Tell us a little about yourself. **All fields** are visible to coordinators."),
            ShortText(
                "name", "Your name", placeholder="Dr Jane Smith", hint="As on your badge", initial="Jane"
            ),
            LongText("about", "About you", word_limit=150, max_chars=2000, required=False),
            Select(
                "role", "Role", (Option("doctor", "Junior doctor"), Option("manager", "Management trainee"))
            ),
            Select("trust", "Trust", tuple(Option(f"t{i}", f"Trust {i}") for i in range(12)), initial="t3"),
            MultiSelect(
                "interests", "Interests", (Option("a", "Audit"), Option("b", "Budgets"), Option("c", "QI"))
            ),
            MultiSelect(
                "regions",
                "Regions",
                tuple(Option(f"r{i}", f"Region {i}") for i in range(8)),
                initial=("r1", "r2"),
            ),
            Checkbox("consent", "I agree to share my answers with my buddy", required=True),
            DateField("start", "Start date", initial="2025-02-03", hint="Monday"),
        ),
        submit_label="Join",
        state="cohort=7;v=1",
    ),
    "import_upload": Form(
        form_id="import",
        title="Import registrations",
        fields=(
            Note("Import registrations into **North 2025** from a survey export."),
            FileUpload("file", "Survey export (CSV)", hint="One row per person, with a heading row."),
            Checkbox("skip_invalid", "Import the valid rows even if some rows have problems"),
        ),
        submit_label="Import",
        state="3",
    ),
    "task_answer": Form(
        form_id="task.respond",
        title="This fortnight's task",
        fields=(
            Note(escape(USER_TEXT) + "\n\n" + LONG[:2000]),
            LongText("answer", "Your reflection", word_limit=300),
        ),
        submit_label="Send",
        state="assignment=12",
    ),
}

HOME = Home(
    blocks=(
        Header("Buddy"),
        Section("You are in **North 2025**.", fields=(("Buddy", "{@bob}"), ("Next task", "Friday"))),
        Actions((Button("Open task", "task.open", "1"),)),
    )
)
