"""The message search the research agent's `search_conversations` tool calls
(`AGENT_SERVICES.search_messages`), on real PostgreSQL: what it finds and in
which order, what it must never return, and input it must survive.

Messages become searchable through the trigger that keeps their vectors, so
each test inserts rows and searches in the same rolled-back transaction.
Every exclusion is checked both ways: the message is missing, then found once
the one thing that excluded it changes, so a test cannot pass on a search that
finds nothing at all."""

import uuid

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import Conversation, Message, User
from app.services.agent_services import AGENT_SERVICES
from tests.factories import add_conversation

LIMIT = 5
# Found as (title, role, content): what the tool shows of each hit.
Found = tuple[str | None, str, str]


class Owner:
    """A user, the conversation the agent runs in, and rows to search."""

    def __init__(self, session: AsyncSession, user: User, current: Conversation) -> None:
        self.session = session
        self.user = user
        self.current = current

    async def conversation(self, title: str | None = None) -> Conversation:
        conversation = Conversation(id=uuid.uuid4(), user_id=self.user.id, title=title)
        self.session.add(conversation)
        await self.session.flush()
        return conversation

    async def message(
        self, conversation: Conversation, content: str, role: str = "user", status: str = "complete"
    ) -> Message:
        message = Message(conversation_id=conversation.id, role=role, content=content, status=status)
        self.session.add(message)
        await self.session.flush()
        return message

    async def search(self, query: str, limit: int = LIMIT, exclude: uuid.UUID | None = None) -> list[Found]:
        hits = await AGENT_SERVICES.search_messages(
            self.session, self.user.id, query, limit, exclude or self.current.id
        )
        return [(hit.title, hit.role, hit.content) for hit in hits]


async def _owner(session: AsyncSession) -> Owner:
    user, current = await add_conversation(session, title="Current")
    return Owner(session, user, current)


@pytest.fixture
async def alice(session: AsyncSession) -> Owner:
    return await _owner(session)


@pytest.fixture
async def bob(session: AsyncSession) -> Owner:
    return await _owner(session)


class TestFinding:
    async def test_complete_user_and_assistant_messages_are_found_whole(self, alice: Owner) -> None:
        notes = await alice.conversation("Notes")
        await alice.message(notes, "where did we put the durable memory?")
        await alice.message(notes, "The durable memory lives in PostgreSQL.", role="assistant")
        await alice.message(notes, "nothing to see here")
        assert sorted(await alice.search("durable memory")) == [
            ("Notes", "assistant", "The durable memory lives in PostgreSQL."),
            ("Notes", "user", "where did we put the durable memory?"),
        ]

    async def test_an_untitled_conversation_has_no_title(self, alice: Owner) -> None:
        # The tool shows "Untitled conversation" for None; a title of "" or
        # "Current" here would be the wrong conversation's or a made-up one.
        untitled = await alice.conversation()
        await alice.message(untitled, "a walrus")
        assert await alice.search("walrus") == [(None, "user", "a walrus")]

    async def test_the_better_match_ranks_first_and_the_limit_keeps_the_best(self, alice: Owner) -> None:
        # Inserted in an order neither the ids (newest first) nor the table's
        # order would turn into the ranked one: only the ranking does.
        middle = await alice.message(await alice.conversation("B"), "otter otter")
        best = await alice.message(await alice.conversation("A"), "otter otter otter")
        worst = await alice.message(await alice.conversation("C"), "otter among many other words")
        ranked = [content for _, _, content in await alice.search("otter")]
        assert ranked == [best.content, middle.content, worst.content]
        assert [content for _, _, content in await alice.search("otter", limit=2)] == ranked[:2]


class TestScope:
    async def test_not_another_users_messages(self, alice: Owner, bob: Owner) -> None:
        await bob.message(await bob.conversation("Bob's"), "zebra stripes")
        assert await alice.search("zebra") == []
        assert await bob.search("zebra") == [("Bob's", "user", "zebra stripes")]

    async def test_not_the_current_conversations(self, alice: Owner) -> None:
        await alice.message(alice.current, "a narwhal in this very conversation")
        assert await alice.search("narwhal") == []
        elsewhere = await alice.search("narwhal", exclude=uuid.uuid4())
        assert elsewhere == [("Current", "user", "a narwhal in this very conversation")]

    async def test_not_a_streaming_message_until_it_is_complete(self, alice: Owner) -> None:
        reply = await alice.message(
            await alice.conversation("Streaming"),
            "an unfinished pelican",
            role="assistant",
            status="streaming",
        )
        assert await alice.search("pelican") == []
        reply.status = "complete"
        await alice.session.flush()
        assert await alice.search("pelican") == [("Streaming", "assistant", "an unfinished pelican")]

    @pytest.mark.parametrize("role", ["tool", "system", "interrupt"])
    async def test_not_what_no_person_wrote(self, alice: Owner, role: str) -> None:
        message = await alice.message(
            await alice.conversation("Tools"), "a heron in a tool result", role=role
        )
        assert await alice.search("heron") == []
        message.role = "assistant"
        await alice.session.flush()
        assert await alice.search("heron") == [("Tools", "assistant", "a heron in a tool result")]


class TestInput:
    @pytest.mark.parametrize(
        "query",
        [
            "o'brien",
            "o'brien & (durable)",
            "durable:*",
            "!durable",
            "(durable | memory) & !o:*",
            "durable') OR 1=1 --",
            "durable\\",
            # A model's query is not checked as a person's is: what PostgreSQL
            # text cannot hold is read as a space between words.
            "durable\x00memory",
            "durable\ud800",
            "durable" + " !" * 400,
        ],
    )
    async def test_query_syntax_is_read_as_words(self, alice: Owner, query: str) -> None:
        # websearch_to_tsquery takes & | ! :* ( ) as punctuation, never as
        # syntax it could fail to parse: the words still find the message.
        notes = await alice.conversation("Notes")
        await alice.message(notes, "O'Brien kept a durable memory")
        assert await alice.search(query) == [("Notes", "user", "O'Brien kept a durable memory")]

    @pytest.mark.parametrize("query", ["", "   ", "'", "&", ":*", "!", "()", "-", '""', "& ! :* ( ) ' -"])
    async def test_a_query_of_no_words_finds_nothing(self, alice: Owner, query: str) -> None:
        # Messages made of the same punctuation, and of words: neither may match.
        notes = await alice.conversation("Notes")
        await alice.message(notes, '& ! :* ( ) \' - ""')
        await alice.message(notes, "plain words", role="assistant")
        assert await alice.search(query) == []
