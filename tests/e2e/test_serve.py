"""`seqclf serve` as a real subprocess on a free loopback port, driven by headless Chromium."""
import os
from pathlib import Path

import pytest

from helpers import CHROMIUM, browser_required
from serving import start, stop


@pytest.fixture(scope="module")
def server(model_dir):
    process, port = start(model_dir)
    yield f"http://127.0.0.1:{port}"
    stop(process)


SCREENSHOTS = Path(os.environ.get("SEQCLF_SCREENSHOTS", "")) if os.environ.get("SEQCLF_SCREENSHOTS") else None
SCREENS = [{"width": 390, "height": 844}, {"width": 1280, "height": 900}]


def save_screenshots(page, tmp_path, name):
    """The whole page as a PNG under the test's tmp_path, and also in SEQCLF_SCREENSHOTS when it names a folder."""
    shot = tmp_path / name
    page.screenshot(path=str(shot), full_page=True)
    if SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
    return shot


@pytest.mark.parametrize("screen", SCREENS, ids=["phone", "desktop"])
def test_a_sentence_flows_through_every_stage_in_the_browser(server, tmp_path, fitted, screen):
    browser_required()
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport=screen)
        page.goto(server)
        expect(page.locator("#flow tbody tr")).to_have_count(len(fitted.data_flow(["x"]).rows))
        text = page.locator("#text")
        text.fill("I love this movie")
        text.press("Enter")  # the keyboard is enough
        for stage in ("tokens", "ids", "embedding", "encoder", "probabilities", "explain"):
            expect(page.locator(f'[data-stage="{stage}"]')).to_be_visible()
        label = fitted.predict(["I love this movie"])[0]
        expect(page.locator("#answer .answer-label")).to_have_text([label])
        expect(page.locator(f'#probabilities li.predicted[data-label="{label}"]')).to_have_count(1)
        expect(page.locator("#tokens li")).to_have_count(4)

        # the embedding: one labelled row per token, the padding collapsed into one band, a legend, values on hover
        rows = page.locator("#embedding .row-labels li")
        expect(rows).to_have_text(["I", "love", "this", "movie", "<pad> × 8"])
        expect(page.locator("#embedding .legend .gradient")).to_have_count(1)
        canvas = page.locator("#embedding canvas")
        assert canvas.bounding_box()["height"] == 5 * 18
        canvas.hover(position={"x": 12, "y": 27})  # row 2 ('love'), feature 2
        expect(page.locator("#embedding .readout")).to_contain_text("token 2 'love'")
        expect(page.locator("#embedding .readout")).to_contain_text("feature 2:")

        # the explanation: tokens coloured by attribution, a legend, the API's label
        explained = fitted.explain(["I love this movie"])[0]
        expect(page.locator("#explain h2")).to_have_attribute("data-label", explained.label)
        expect(page.locator("#explain h2")).to_have_attribute("data-predicted", label)
        tokens = page.locator("#explain .attributions li")
        expect(tokens).to_have_count(4)
        colours = {tokens.nth(i).evaluate("node => getComputedStyle(node).backgroundColor") for i in range(4)}
        assert len(colours) >= 2 and "rgba(0, 0, 0, 0)" not in colours
        for i, token in enumerate(explained.tokens):
            assert float(tokens.nth(i).get_attribute("data-attribution")) == pytest.approx(token["attribution"], abs=1e-3)
        expect(page.locator("#explain .legend .gradient")).to_have_count(1)
        other = next(name for name in fitted.classes_ if name != explained.label)
        page.locator("#explain-label").select_option(other)  # explain another class
        expect(page.locator("#explain h2")).to_have_attribute("data-label", other)

        # the training curves: axes with epoch numbers and value ticks
        epochs = len(fitted.history.records)
        expect(page.locator("#curve .loss .tick.x")).to_have_count(epochs)
        expect(page.locator("#curve .accuracy .tick.x")).to_have_count(epochs)
        expect(page.locator("#curve .tick.loss")).to_have_count(5)
        assert page.locator("#curve svg polyline").count() >= 1

        shot = save_screenshots(page, tmp_path, f"page-{screen['width']}.png")
        assert page.evaluate("document.documentElement.scrollWidth") <= screen["width"]  # no sideways page scroll
        browser.close()
    assert shot.stat().st_size > 10_000

