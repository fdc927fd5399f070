"""Residents who type rather than tap: a whole housing intake in Italian on WhatsApp, answered by
typing numbers, and the commands typed as words of their language ("stato", "aiuto", "الغاء"
without its hamza), while a word written to one's volunteer stays a message for them."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from db.models import Case, CaseKind
from handlers.emulation.telegram import EmulatedBotAPI
from handlers.emulation.whatsapp import WaUser
from tests.stories import HOUSING_GROUP
from tests.transcript import Person, said
from tests.whatsapp.conftest import ROSA, Desk, RosasDesk, claims

LUCA = WaUser("393471234567", "Luca")  # an Italian number: Italian is offered first
SAMIA = WaUser("212612345678", "Samia")  # a Moroccan number: Arabic


def it(message: str) -> str:
    return said("it", message)


def question(position: int) -> str:
    return it("{flow} · question {position} of {total}").format(
        flow=it("Housing help"), position=position, total=8
    )


async def test_a_housing_intake_in_italian_typed_from_start_to_end(
    desk: Desk, telegram: EmulatedBotAPI, sessions: Any
) -> None:
    graph = desk.graph
    graph.push_text(LUCA, "inizia")  # "start", in his language
    picker = await desk.reads(LUCA, it("Hello! Which language do you want to use?"))
    assert "✓ Italiano" in [title for _, title in picker.buttons]
    graph.push_text(LUCA, "1")  # the first language offered, his
    await desk.reads(LUCA, it("Do you agree?"))
    graph.push_text(LUCA, "1")  # yes
    menu = await desk.reads(LUCA, it("What do you need help with?"))
    assert menu.buttons[0][1] == f"1. {it('Housing help')}"
    graph.push_text(LUCA, "1")
    situation = await desk.reads(LUCA, question(1))
    assert situation.interactive == "list"  # five situations: more than three buttons
    graph.push_text(LUCA, "2")  # an eviction notice
    await desk.reads(LUCA, question(2))
    graph.push_text(LUCA, "4")  # four people
    await desk.reads(LUCA, question(3))
    graph.push_text(LUCA, "2")  # two children
    await desk.reads(LUCA, question(4))
    graph.push_text(LUCA, "9")  # Municipio 9
    await desk.reads(LUCA, question(5))
    graph.push_text(LUCA, "3")  # does not know about ERP
    await desk.reads(LUCA, question(6))
    graph.push_text(LUCA, "1")
    await desk.reads(LUCA, question(7))
    graph.push_text(LUCA, "4")  # any time
    await desk.reads(LUCA, question(8))
    graph.push_text(LUCA, "2")
    summary = await desk.reads(LUCA, it("Is everything right?"))
    assert it("I have an eviction notice") in (summary.text or "")
    graph.push_text(LUCA, "1")  # confirm
    await desk.reads(LUCA, "SP-00001")
    card = await telegram.next_message(HOUSING_GROUP)
    assert "Municipio 9" in (card.text or "") and "Italiano" in (card.text or "")
    async with sessions() as session:
        case = (await session.exec(select(Case))).one()
    assert case.kind == CaseKind.HOUSING and case.details["situation"] == "eviction"

    graph.push_text(LUCA, "Stato")  # "status", capitalised as phones do
    status = await desk.reads(LUCA, "SP-00001")
    assert it("Housing help") in (status.text or "")
    graph.push_text(LUCA, "aiuto")
    help_text = await desk.reads(LUCA, "/status (stato)")
    assert f"/help (aiuto) – {it('What this bot does')}" in (help_text.text or "")
    graph.push_text(LUCA, "/stato")  # the word as a command works too
    await desk.reads(LUCA, "SP-00001")


async def test_arabic_words_typed_without_their_hamza_work(desk: Desk) -> None:
    graph = desk.graph
    graph.push_text(SAMIA, "/start")
    picker = await desk.reads(SAMIA, said("ar", "Hello! Which language do you want to use?"))
    titles = [title for _, title in picker.buttons]
    graph.push_text(SAMIA, str(titles.index("✓ العربية") + 1))  # the number of her language
    await desk.reads(SAMIA, said("ar", "Do you agree?"))
    graph.push_text(SAMIA, "1")
    await desk.reads(SAMIA, said("ar", "What do you need help with?"))
    graph.push_text(SAMIA, "2")  # food aid
    await desk.reads(SAMIA, "1 من 5")
    graph.push_text(SAMIA, "الغاء")  # "cancel", typed as most phones do: without the hamza
    asked = "Do you want to cancel? Your answers will be discarded and nothing will be sent."
    await desk.reads(SAMIA, said("ar", asked))
    graph.push_text(SAMIA, "1")  # yes, cancel: a question of the intake reads its numbers
    await desk.reads(SAMIA, said("ar", "What do you need help with?"))


async def test_a_word_for_the_volunteer_is_passed_on_not_taken_for_a_command(
    rosas_desk: RosasDesk, telegram: EmulatedBotAPI
) -> None:
    graph, vera = rosas_desk.graph, Person(telegram, 6701, "en")
    await claims(telegram, vera)
    await graph.next_message(ROSA)
    graph.push_text(ROSA, "help")
    rosa = Desk("", graph)
    await rosa.reads(ROSA, "✓ Sent to the volunteer following your request SP-00001.")
    await vera.hears("SP-00001 · the resident writes:")
    await vera.hears("help")
    graph.push_text(ROSA, "/help")  # with "/", it is the command
    await rosa.reads(ROSA, "/status – See your requests")
