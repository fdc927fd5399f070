"""The demo's page in a real browser: Debian's Chromium, driven by Playwright.

A resident writing in Arabic asks for food aid through the page; a volunteer takes the request
in the queue's group and answers in his private chat; the resident reads the answer; the clock
brings a reminder. The organiser writes a broadcast for Arabic readers and follows it. On
WhatsApp, a resident with an Egyptian number starts an intake with reply buttons and lists; a
day later, only a template reaches a resident. Everything is found by its role and accessible
name, as a screen reader would find it, in the page's language (Italian, the demo's default).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from bot.demo import seed
from tests.transcript import said
from tests.web.serving import Demo

CHROMIUM = Path("/usr/bin/chromium")  # Debian's: Playwright cannot fetch its own browser here
HAVE_CHROMIUM = CHROMIUM.exists()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("Chromium is missing: .ci/run installs it (apt-get install chromium)")
        pytest.skip("Chromium is not installed: apt-get install chromium")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield browser
        finally:
            await browser.close()


@pytest.fixture
async def page(browser: Browser, demo: Demo) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1400, "height": 900}, locale="it-IT")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(f"{demo.url}/")
    yield page
    await context.close()
    assert errors == [], f"the page's script failed: {errors}"


def it(message: str) -> str:
    return said("it", message)


def ar(message: str) -> str:
    return said("ar", message)


async def writes(pane: Locator, text: str) -> None:
    box = pane.get_by_role("textbox", name=it("Message"))
    await box.fill(text)
    await box.press("Enter")


async def taps(pane: Locator, label: str) -> None:
    """Press the button `label` on the pane's latest message that has it."""
    await pane.get_by_role("button", name=label, exact=True).last.click()


async def sees(pane: Locator, text: str) -> Locator:
    found = pane.get_by_role("article").filter(has_text=text).last
    await expect(found).to_be_visible()
    return found


async def asks_for_food_in_arabic(pane: Locator, on_whatsapp: bool = False) -> Locator:
    """A new resident starts, taps Arabic (pre-selected, so marked ✓; on WhatsApp a row of the
    languages' list), agrees, asks for food aid and types the answers to the first two
    questions; the third question, as the pane shows it."""
    await writes(pane, "/start")
    await sees(pane, ar("Hello! Which language do you want to use?"))
    if on_whatsapp:
        await picks(pane, "✓ العربية", ar("Choose"))
    else:
        await taps(pane, "✓ العربية")
    await sees(pane, ar("Do you agree?"))
    await taps(pane, ar("Yes, I agree"))
    await sees(pane, ar("What do you need help with?"))
    await pane.get_by_role("button", name=re.compile(ar("Food aid"))).last.click()
    await sees(pane, "1 من 5")
    await writes(pane, "2")
    await sees(pane, "2 من 5")
    await writes(pane, "0")
    return await sees(pane, "3 من 5")


async def picks(pane: Locator, row: str, menu: str) -> None:
    """Open the pane's latest WhatsApp list (its button says `menu`) and pick the row `row`."""
    await pane.get_by_role("button", name=menu, exact=True).last.click()
    sheet = pane.get_by_role("dialog", name=menu)
    await sheet.get_by_role("button", name=re.compile(re.escape(row))).first.click()
    await expect(sheet).to_be_hidden()


async def test_a_resident_in_arabic_gets_help_from_a_volunteer_through_the_page(
    page: Page, demo: Demo
) -> None:
    await expect(page.get_by_role("banner")).to_contain_text("Demo")
    # Nour arrives, with a phone in Arabic.
    chats = page.get_by_role("navigation", name=it("Open a chat"))
    await chats.get_by_label(it("Name")).fill("Nour")
    await chats.get_by_label(it("Language")).select_option("ar")
    await chats.get_by_role("button", name=it("Start"), exact=True).click()
    nour = page.get_by_role("region", name="Nour", exact=True)
    # Arabic is pre-selected: her phone is in Arabic.
    diet = await asks_for_food_in_arabic(nour)
    await diet.get_by_role("button", name=re.compile("حلال")).click()
    await expect(diet.get_by_role("button", name=re.compile("☑"))).to_be_visible()
    await diet.get_by_role("button", name=ar("Done ✓")).click()
    await sees(nour, "4 من 5")
    await writes(nour, "6")
    await sees(nour, "5 من 5")
    await writes(nour, "1")
    await sees(nour, ar("Is everything right?"))
    await nour.get_by_role("button", name=re.compile(ar("Confirm and send"))).last.click()
    number = await sees(nour, "SP-00005")
    # Her bubbles read right to left, and so does the page's own text inside them.
    assert await number.evaluate("e => getComputedStyle(e).direction") == "rtl"

    # Marco, a volunteer, takes her request in the food queue's group.
    group = page.get_by_role("region", name="Spesa solidale", exact=True)
    card = await sees(group, "SP-00005")
    assert await card.evaluate("e => getComputedStyle(e).direction") == "ltr"
    await card.get_by_role("button", name=it("Claim"), exact=True).click()
    await sees(group, "Marco")  # the card now says who took it
    marco = page.get_by_role("region", name="Marco", exact=True)
    if not await marco.count():
        await chats.get_by_role("button", name="Marco, Telegram", exact=True).click()
    details = await sees(marco, "SP-00005")
    # He answers her by replying to the request's message.
    await details.get_by_role("button", name=it("Reply"), exact=True).click()
    await writes(marco, "Ciao Nour, ci vediamo giovedì alle 10")
    reply = await sees(nour, "Ciao Nour, ci vediamo giovedì alle 10")
    # A Latin text keeps its own direction inside the Arabic chat.
    assert await reply.evaluate("e => getComputedStyle(e).direction") == "ltr"


async def test_the_clock_brings_a_reminder_to_the_page(page: Page, demo: Demo) -> None:
    clock = page.get_by_role("banner")
    before = await clock.inner_text()
    await clock.get_by_role("button", name=it("To the next reminder")).click()
    said = page.get_by_role("status").filter(has_text="Avanti fino a")
    await expect(said).to_be_visible()
    # The residents who signed up to the first activity ahead get its reminder.
    signed_up = {person.user_id: person.name for person in seed.RESIDENTS[:3]}
    for _ in range(100):
        reminded = [chat for chat in signed_up if demo.telegram.chats[chat]]
        if reminded:
            break
        await asyncio.sleep(0.05)
    assert reminded, "no reminder was sent"
    first = reminded[0]
    reminder = str(demo.telegram.history(first)[0]["text"])  # as the page shows it
    chats = page.get_by_role("navigation", name=it("Open a chat"))
    await chats.get_by_role("button", name=f"{signed_up[first]}, Telegram", exact=True).click()
    pane = page.get_by_role("region", name=signed_up[first], exact=True)
    await sees(pane, reminder.splitlines()[0])
    assert await clock.inner_text() != before


async def test_a_whatsapp_resident_from_egypt_starts_an_intake_with_buttons_and_lists(
    page: Page, demo: Demo
) -> None:
    chats = page.get_by_role("navigation", name=it("Open a chat"))
    await chats.get_by_label(it("Name")).fill("Salma")
    await chats.get_by_label(it("Chat app")).select_option("whatsapp")
    await expect(chats.get_by_label(it("Language"))).to_be_hidden()
    await chats.get_by_label(it("Country of the number")).select_option("20")
    await chats.get_by_role("button", name=it("Start"), exact=True).click()
    await expect(chats.get_by_role("button", name="Salma, WhatsApp", exact=True)).to_be_visible()
    salma = page.get_by_role("region", name="Salma", exact=True)
    await expect(salma.get_by_role("heading", name="Salma")).to_be_visible()
    await expect(salma).to_contain_text("+20 10")
    # Arabic pre-selected (her number is Egyptian), in a list: fourteen languages.
    await asks_for_food_in_arabic(salma, on_whatsapp=True)
    choose = ar("Choose")
    await picks(salma, "حلال", choose)  # the diets are a list: more than 3 choices
    ticked = await sees(salma, "3 من 5")
    await expect(ticked.get_by_role("button", name=choose)).to_be_visible()
    await picks(salma, ar("Done ✓"), choose)
    await sees(salma, "4 من 5")
    await picks(salma, "6.", choose)  # the nine Municipi and outside Milan: ten rows
    question = await sees(salma, "5 من 5")
    # What she picked is her answer in the chat, right to left as her questions are.
    answer = await sees(salma, "6.")
    # (Asked again until it holds: a message is drawn anew when its ticks change.)
    await expect(answer).to_have_css("direction", "rtl")
    await expect(question).to_have_css("direction", "rtl")
    # Ticks: the help desk read hers; she has the chat open, so the bot's are read too.
    await expect(answer.get_by_role("img", name=it("Read"))).to_be_visible()
    await expect(question.get_by_role("img", name=it("Read"))).to_be_visible()


async def test_a_day_after_a_whatsapp_resident_wrote_the_reminder_is_a_template(
    page: Page, demo: Demo
) -> None:
    chats = page.get_by_role("navigation", name=it("Open a chat"))
    await chats.get_by_role("button", name="Hoda, WhatsApp", exact=True).click()
    hoda = page.get_by_role("region", name="Hoda", exact=True)
    await writes(hoda, "/status")  # WhatsApp lets the help desk write freely for a day
    await sees(hoda, ar("What do you need help with?"))
    clock = page.get_by_role("banner")
    await clock.get_by_role("button", name=it("+1 day")).click()
    await expect(page.get_by_role("status").filter(has_text="Avanti fino a")).to_be_visible()
    await clock.get_by_role("button", name=it("To the next reminder")).click()
    # Omar's homework group: the approved reminder template, with its two quick replies.
    reminder = await sees(hoda, "تذكير:")
    await expect(reminder.get_by_role("img", name=it("Read"))).to_be_visible()
    await reminder.get_by_role("button", name="سأحضر", exact=True).click()
    answer = hoda.locator(".from-person").get_by_role("article").last  # her side of the chat
    await expect(answer).to_contain_text("سأحضر")
    await expect(answer).to_have_css("direction", "rtl")


async def test_the_organiser_writes_a_broadcast_for_arabic_readers_and_follows_it(
    page: Page, demo: Demo
) -> None:
    chats = page.get_by_role("navigation", name=it("Open a chat"))
    await chats.get_by_role("button", name="Giulia, Telegram", exact=True).click()
    giulia = page.get_by_role("region", name="Giulia", exact=True)
    await writes(giulia, "/broadcast")
    await sees(giulia, it("Who should receive the notice?"))
    await taps(giulia, it("Those who read a language"))
    await sees(giulia, it("Which language do they read?"))
    await taps(giulia, "arabo")
    await sees(giulia, it("Type the notice in {language}.").format(language="arabo"))
    await writes(giulia, "حفلة في الفناء يوم السبت")
    preview = await sees(giulia, "حفلة في الفناء يوم السبت")
    await expect(preview).to_contain_text("arabo")
    question = await sees(giulia, it("Send this notice to {count} person?").split(" {")[0])
    await question.get_by_role("button", name=it("Send"), exact=True).click()
    # Amina and Fatima on Telegram, Hoda on WhatsApp: all three within reach.
    done = it("Broadcast {number}: {sent} of {total} sent. Done.")
    await sees(giulia, done.format(number="#1", sent=3, total=3))
    await chats.get_by_role("button", name="Amina, Telegram", exact=True).click()
    amina = page.get_by_role("region", name="Amina", exact=True)
    notice = await sees(amina, "حفلة في الفناء يوم السبت")
    assert await notice.evaluate("e => getComputedStyle(e).direction") == "rtl"
