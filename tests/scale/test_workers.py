"""Two `helpdesk serve` workers in their own processes on one PostgreSQL, behind one address:
webhooks go to either, each resident's updates still apply in order and once, one worker leads
the work done once (the outbox, reminders, cards), and another takes it over when it is killed.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from sqlmodel import col, select

from bench.cluster import SECRET, Cluster, until
from bench.reminders import busiest_second, enrolment, insert_all
from bot.broadcasts.notice import Notice, queue
from bot.outbox.sender import IN_FLIGHT
from bot.residents.privacy import NOTICE_VERSION
from db.models import (
    Activity,
    ActivityKind,
    Case,
    CaseEvent,
    Consent,
    Intake,
    Lease,
    Outbox,
    OutboxStatus,
    Resident,
)
from db.session import create_engine, session_factory
from handlers.emulation.telegram import EmulatedBotAPI
from handlers.emulation.whatsapp import EmulatedGraphAPI, WaUser
from handlers.telegram.group import CARDS_LOOK_EVERY_SECONDS
from tests.stories import (
    HOUSING_GROUP,
    ORGANISER,
    claimed_case,
    confirm_housing_request,
    consent_in_english,
)
from tests.transcript import Person

ROME = ZoneInfo("Europe/Rome")


async def rows(database_url: str, statement: Any) -> list[Any]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return list((await session.exec(statement)).all())
    finally:
        await engine.dispose()


async def test_one_worker_leads_and_any_worker_takes_residents_updates(
    workers: Cluster, telegram: EmulatedBotAPI
) -> None:
    leader = await workers.leader()
    follower = next(worker for worker in workers.workers if worker is not leader)
    assert (await workers.health(follower) or {})["leader"] is False
    assert "helpdesk_leader 1.0" in await workers.metrics(leader)
    assert "helpdesk_leader 0.0" in await workers.metrics(follower)

    people = [Person(telegram, 7100 + n, "en") for n in range(12)]
    async with asyncio.timeout(90):
        await asyncio.gather(
            *(confirm_housing_request(ada, "SP-", n % 9 + 1) for n, ada in enumerate(people))
        )

    # Every answer kept, each resident's own: their district is theirs.
    found = await rows(
        workers.database_url,
        select(Resident.channel_user_id, Case.district, Case.household_size).join(
            Case, col(Case.resident_id) == col(Resident.id)
        ),
    )
    assert sorted(found) == sorted((str(7100 + n), f"m{n % 9 + 1}", 3) for n in range(12))

    # The leader posted each card once, in the housing group, those of requests the other
    # worker took at its next look.
    def cards() -> Counter[str]:
        texts = [m.get("text") or "" for m in telegram.history(HOUSING_GROUP)]
        return Counter(word for text in texts for word in text.split() if word.startswith("SP-"))

    await until(lambda: len(cards()) == 12, 10, "card of every request")
    await asyncio.sleep(CARDS_LOOK_EVERY_SECONDS + 0.5)  # one more look: nothing posted twice
    assert set(cards().values()) == {1}, cards()
    # Both workers took webhook calls.
    assert all(workers.balancer.served[worker.url] > 20 for worker in workers.workers)


def text_update(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    user = {"id": user_id, "is_bot": False, "first_name": "Ada", "language_code": "en"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Ada"},
            "from": user,
            "text": text,
        },
    }


async def post_update(url: str, update: dict[str, Any]) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    async with (
        aiohttp.ClientSession() as client,
        client.post(f"{url}/telegram", json=update, headers=headers) as response,
    ):
        return response.status


async def test_one_residents_updates_given_to_both_workers_at_once_apply_one_after_the_other(
    workers: Cluster, telegram: EmulatedBotAPI
) -> None:
    """Telegram gives one chat's updates one at a time, but gives one again when unsure (a
    slow answer), and a proxy may retry: two updates of one resident can reach two workers at
    the same moment. The second waits for the first: both answers are kept, whichever is first,
    and an update given to both at once is applied once."""
    people = [Person(telegram, 7200 + n, "en") for n in range(8)]
    for ada in people:
        await consent_in_english(ada)
        await ada.taps("Housing help")
        await ada.hears("situation")
    first, second = workers.workers
    statuses = await asyncio.gather(
        *(
            post_update(worker.url, text_update(update_id, ada.user.id, answer))
            for n, ada in enumerate(people)
            for worker, update_id, answer in [
                (first, 900_000 + 2 * n, "2"),
                (second, 900_001 + 2 * n, "3"),
                (first, 950_000 + n, "/status"),  # given to both workers at once
                (second, 950_000 + n, "/status"),
            ]
        )
    )
    assert set(statuses) == {200}
    intakes = await rows(workers.database_url, select(Intake))
    assert len(intakes) == 8
    for intake in intakes:
        # Both answers applied, one after the other (2 then 3, or 3 then 2): the intake went on
        # by two questions, which it would not if both had read the same question.
        assert set(intake.answers) == {"situation", "household"}, intake.answers
    # One answer to each update: the next question twice, and /status's once (its answer, then
    # the question being answered again).
    await until(
        lambda: all(len(telegram.unread(ada.chat_id)) >= 4 for ada in people), 10, "answers"
    )
    await asyncio.sleep(1)  # anything answered twice would come now
    for ada in people:
        texts = [message.text or "" for message in telegram.unread(ada.chat_id)]
        assert len(texts) == 4, texts
        assert sum("You have no requests yet." in text for text in texts) == 1, texts
        assert any("question 3 of 8" in text for text in texts), texts


async def test_a_volunteers_command_given_to_both_workers_at_once_applies_once(
    workers: Cluster, telegram: EmulatedBotAPI
) -> None:
    ada, vera = Person(telegram, 7300, "en"), Person(telegram, 7400, "en")
    await claimed_case(telegram, ada, vera)
    telegram.mark_read(vera.chat_id)
    note = text_update(990_000, vera.user.id, "/note SP-00001 she has a letter from the court")
    note["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 5}]
    statuses = await asyncio.gather(*(post_update(w.url, note) for w in workers.workers))
    assert statuses == [200, 200]
    await vera.hears("Note added to SP-00001.")
    await vera.hears_nothing_more()
    actions = await rows(workers.database_url, select(CaseEvent.action))
    assert actions.count("note") == 1, actions


async def test_a_burst_of_one_residents_whatsapp_messages_over_both_workers_applies_in_order(
    workers: Cluster, graph: EmulatedGraphAPI
) -> None:
    """Meta delivers a resident's messages one after the other as they come; a resident who
    types all their answers at once has them taken by both workers in turn, and applied and
    answered in the order they wrote them."""
    nour = WaUser("393331234567", name="Nour")
    graph.push_text(nour, "hello")
    picker = await graph.next_message(nour.wa_id, timeout=20)
    assert "Che lingua" in (picker.text or "")
    graph.push_text(nour, "2")  # English
    await graph.next_message(nour.wa_id, timeout=20)  # the privacy notice
    for typed in ["1", "1", "2", "3", "1", "5", "1", "1", "3", "2"]:
        graph.push_text(nour, typed)  # agree, housing, then every answer, without waiting
    heard = [await graph.next_message(nour.wa_id, timeout=20) for _ in range(10)]
    texts = [message.text or "" for message in heard]
    expected = ["What do you need help with?", "situation"]
    expected += [f"question {n} of 8" for n in range(2, 9)] + ["Is everything right?"]
    for text, fragment in zip(texts, expected, strict=True):
        assert fragment in text, (fragment, texts)
    [intake] = await rows(workers.database_url, select(Intake))
    assert intake.answers["district"] == "m5" and intake.answers["household"] == 3
    served = [workers.balancer.served[worker.url] for worker in workers.workers]
    assert min(served) >= 4, served  # the burst was split over both


async def test_the_leader_killed_during_a_burst_of_reminders_each_goes_once(
    deployment: Cluster, telegram: EmulatedBotAPI
) -> None:
    workers = deployment
    count = 240  # 8 seconds at Telegram's 30 a second
    starts = datetime.now(ROME).replace(second=0, microsecond=0, tzinfo=None)
    starts += timedelta(hours=2, minutes=-1)  # its 2-hour reminder is due a minute ago
    engine = create_engine(workers.database_url)
    sessions = session_factory(engine)
    try:
        await insert_all(
            sessions,
            [
                Activity(
                    id=1,
                    kind=ActivityKind.EVENT,
                    title="Festa in cortile",
                    place="Cortile",
                    starts_local=starts,
                    repeat="none",
                    duration_minutes=60,
                    created_at=datetime.now(UTC) - timedelta(days=3),
                )
            ],
        )
        await insert_all(
            sessions,
            [
                Resident(id=n, channel="telegram", channel_user_id=str(80_000 + n), language="en")
                for n in range(1, count + 1)
            ],
        )
        signed_up = datetime.now(UTC) - timedelta(days=2)
        places = [enrolment(1, n) for n in range(1, count + 1)]
        for place in places:
            place.created_at = place.enrolled_at = signed_up
        await insert_all(sessions, places)
    finally:
        await engine.dispose()
    await workers.start_worker()  # its check at start finds the reminders due
    await workers.start_worker()
    leader = await workers.leader()

    def reminded() -> list[int]:
        return [
            int(call.params["chat_id"])
            for call in telegram.calls
            if call.method == "sendMessage" and call.ok and int(call.params["chat_id"]) > 80_000
        ]

    await until(lambda: len(reminded()) >= count // 3, 60, "third of the reminders")
    await workers.kill(leader)
    killed_at = time.monotonic()
    successor = await workers.leader(within=30)
    took_over = time.monotonic() - killed_at
    await until(lambda: len(set(reminded())) == count, 60, "reminder to everyone")
    await asyncio.sleep(2)  # anything sent twice would come now
    got = Counter(reminded())
    twice = sum(times - 1 for times in got.values())
    assert set(got) == {80_000 + n for n in range(1, count + 1)}  # nobody missing
    assert twice <= IN_FLIGHT, f"{twice} sent twice (in flight at the kill: at most {IN_FLIGHT})"
    assert took_over < 25, took_over
    assert successor is not leader
    marked = Counter(await rows(workers.database_url, select(Outbox.status)))
    # Each 2-hour reminder marked sent once; the 24-hour ones, long past, recorded as skipped.
    assert marked == {OutboxStatus.SENT: count, OutboxStatus.SKIPPED: count}
    print(
        f"\nreminders: {twice} sent twice (in flight at the kill); taken over in {took_over:.1f} s"
    )


async def test_a_broadcast_to_2000_goes_to_everyone_across_a_change_of_leader(
    workers: Cluster, telegram: EmulatedBotAPI, graph: EmulatedGraphAPI
) -> None:
    """2,000 WhatsApp residents (80 messages a second: 25 s), the leader killed a third of the
    way: the other worker goes on, nobody is missing, and the pace stays within WhatsApp's."""
    count = 2_000
    graph.per_second = 80
    wrote = datetime.now(UTC) - timedelta(hours=1)
    people = [WaUser(f"39320{n:07d}", name=f"Resident {n}") for n in range(1, count + 1)]
    for user in people:
        graph.add_user(user, wrote_at=wrote.timestamp())
    engine = create_engine(workers.database_url)
    sessions = session_factory(engine)
    try:
        await insert_all(
            sessions,
            [
                Resident(
                    id=n,
                    channel="whatsapp",
                    channel_user_id=user.user_id,
                    language="en",
                    phone=f"+{user.wa_id}",
                    last_inbound_at=wrote,
                )
                for n, user in enumerate(people, start=1)
            ],
        )
        await insert_all(
            sessions,
            [
                Consent(resident_id=n, version=NOTICE_VERSION, accepted=True, answered_at=wrote)
                for n in range(1, count + 1)
            ],
        )
        leader = await workers.leader()
        notice = Notice.of(
            {"text": {"en": "Saturday party in the courtyard, at 4pm!"}}, ("en",), "en"
        )
        async with sessions() as session, session.begin():
            await queue(session, notice, "en", datetime.now(UTC), ORGANISER, language="en")
    finally:
        await engine.dispose()

    def delivered() -> list[str]:
        return [m.to for m in graph.sent if m.text and "courtyard" in m.text]

    # Cheap looks: the emulation runs in this loop, and a long look would make it read messages
    # sent apart together.
    await until(lambda: len(graph.sent) >= count // 3, 60, "third of the broadcast")
    await workers.kill(leader)
    await workers.leader(within=30)

    def everyone_has_it() -> bool:
        return all(graph.chats.get(user.wa_id) for user in people)

    await until(everyone_has_it, 120, "broadcast to everyone", every=0.5)
    await asyncio.sleep(2)
    got = Counter(delivered())
    twice = sum(times - 1 for times in got.values())
    assert set(got) == {user.wa_id for user in people}  # nobody missing
    assert twice <= IN_FLIGHT, twice
    accepted = [
        call.at for call in graph.calls if call.path.endswith("/messages") and call.status == 200
    ]
    assert busiest_second(accepted) <= 80
    # The workers pace at 96 % of 80 a second, but this machine's two cores are shared by two
    # workers, PostgreSQL and the emulation: when the emulation's loop is late, requests sent
    # apart are read together and one may be refused (it is sent again a second later, and the
    # sending holds for that second, as WhatsApp asks).
    assert graph.rejected_rate <= count // 100, graph.rejected_rate
    print(f"\nbroadcast: {twice} sent twice, {graph.rejected_rate} refused by the emulation")
    holders = await rows(workers.database_url, select(Lease.holder).where(Lease.name == "leader"))
    assert len(holders) == 1
