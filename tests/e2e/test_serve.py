"""`seqclf serve` as a real subprocess on a free loopback port, driven by headless Chromium."""
import contextlib
import os
import re
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


@contextlib.contextmanager
def page_at(server, screen):
    """The served web page in headless Chromium, at `screen`'s size."""
    browser_required()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        page = browser.new_page(viewport=screen)
        page.goto(server)
        yield page
        browser.close()


@pytest.mark.parametrize("screen", SCREENS, ids=["phone", "desktop"])
def test_a_sentence_flows_through_every_stage_in_the_browser(server, tmp_path, fitted, screen):
    from playwright.sync_api import expect

    with page_at(server, screen) as page:
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
    assert shot.stat().st_size > 10_000


# Every element that shows text of its own (headings, labels, legend items, axis labels, chips, buttons, form fields),
# visible, as [left, top, right, bottom] (its box joined with its text's, which may overflow the box) and the indexes
# of the collected elements it lies inside.
TEXT_BOXES = """() => {
  const own = (node) => [...node.childNodes].filter((c) => c.nodeType === Node.TEXT_NODE && c.data.trim());
  const shown = [...document.body.querySelectorAll("*")].filter((node) => node.tagName !== "OPTION" &&
    (own(node).length || ["INPUT", "SELECT"].includes(node.tagName)) && node.checkVisibility());
  const boxes = shown.map((node) => {
    const rects = [node.getBoundingClientRect(), ...own(node).flatMap((text) => {
      const range = document.createRange();
      range.selectNodeContents(text);
      return [...range.getClientRects()];
    })].filter((r) => r.width > 0 && r.height > 0);
    return rects.length ? [Math.min(...rects.map((r) => r.left)), Math.min(...rects.map((r) => r.top)),
      Math.max(...rects.map((r) => r.right)), Math.max(...rects.map((r) => r.bottom))] : null;
  });
  return shown.map((node, i) => ({ box: boxes[i], text: (node.textContent || node.tagName).trim().slice(0, 40),
    inside: shown.flatMap((other, j) => other !== node && other.contains(node) ? [j] : []) }))
    .filter((item) => item.box);
}"""

# Words split across two lines (as "variab le"): each word of every visible text, with no hyphen or slash to break at,
# whose characters lie on more than one line.
BROKEN_WORDS = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const broken = [];
  for (let text = walker.nextNode(); text; text = walker.nextNode()) {
    if (!text.parentElement.checkVisibility()) continue;
    for (const word of text.data.matchAll(/[^\\s\\-\\/]+/g)) {
      const range = document.createRange();
      range.setStart(text, word.index);
      range.setEnd(text, word.index + word[0].length);
      const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (lines.size > 1) broken.push(word[0]);
    }
  }
  return broken;
}"""


def overlapping(items):
    """Pairs of text boxes that overlap by more than a pixel both ways, neither inside the other."""
    pairs = []
    for i, a in enumerate(items):
        for j in range(i + 1, len(items)):
            b = items[j]
            if i in b["inside"] or j in a["inside"]:
                continue
            across = min(a["box"][2], b["box"][2]) - max(a["box"][0], b["box"][0])
            down = min(a["box"][3], b["box"][3]) - max(a["box"][1], b["box"][1])
            if across > 1 and down > 1:
                pairs.append((a["text"], b["text"]))
    return pairs


def contrast(foreground, background):
    """The WCAG contrast ratio of two computed colours ("rgb(r, g, b)")."""
    def luminance(colour):
        channels = [int(c) / 255 for c in re.findall(r"\d+", colour)[:3]]
        linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted([luminance(foreground), luminance(background)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def assert_curves_show_both_losses_and_the_kept_epoch(page, fitted):
    from playwright.sync_api import expect

    for series in ("train-loss", "valid-loss", "train-accuracy", "valid-accuracy"):
        line = page.locator(f"#curve polyline.{series}")
        expect(line).to_have_count(1)
        swatch = page.locator(f'#curve .chart-legend li[data-series="{series}"] .swatch')
        assert swatch.evaluate("node => getComputedStyle(node).backgroundColor") == \
            line.evaluate("node => getComputedStyle(node).stroke")
    expect(page.locator("#curve .best-epoch")).to_have_count(2)  # on the loss and the accuracy chart
    expect(page.locator("#curve .loss .chart-legend")).to_contain_text(f"epoch {fitted.history.best_epoch}: weights kept")
    accuracies = [r.train_accuracy for r in fitted.history.records] + [r.valid_accuracy for r in fitted.history.records]
    ticks = [float(t) for t in page.locator("#curve .tick.accuracy").all_text_contents()]
    spread = max(accuracies) - min(accuracies)
    assert ticks[0] <= min(accuracies) + 0.005 and ticks[-1] >= max(accuracies) - 0.005  # the data on the axis,
    assert ticks[-1] - ticks[0] <= 1.25 * spread + 0.01                                  # and not much more


def assert_chips_readable_with_their_numbers(page, fitted):
    from playwright.sync_api import expect

    chips = page.locator("#explain .attributions li")
    expect(chips).to_have_count(4)
    explained = fitted.explain(["I love this movie"])[0]
    for i, token in enumerate(explained.tokens):
        chip = chips.nth(i)
        colours = chip.evaluate("node => [getComputedStyle(node).color, getComputedStyle(node).backgroundColor]")
        assert contrast(*colours) >= 4.5, (token["text"], colours)
        text = chip.inner_text()
        number = re.search(r"([+−])(\d+\.\d+)$", text)
        assert text.startswith(token["text"]) and number, text
        value = float(number[2]) * (1 if number[1] == "+" else -1)
        assert value == pytest.approx(token["attribution"], abs=1e-3)


@pytest.mark.parametrize("screen", SCREENS, ids=["phone", "desktop"])
def test_the_answer_comes_first_and_nothing_overlaps(server, tmp_path, fitted, screen):
    from playwright.sync_api import expect

    with page_at(server, screen) as page:
        page.locator("#text").fill("I love this movie")
        page.locator("#text").press("Enter")
        expect(page.locator("#explain .attributions li")).to_have_count(4)
        expect(page.locator("#curve polyline.valid-loss")).to_have_count(1)

        # the answer: the label and its probability, on the first screen, without scrolling
        label, probability = fitted.predict(["I love this movie"])[0], fitted.predict_proba(["I love this movie"])[0]
        expect(page.locator("#answer .answer-label")).to_have_text([label])
        expect(page.locator("#answer .probability")).to_have_text(
            [f"{probability[fitted.classes_.index(label)]:.3f}"])
        assert page.evaluate("window.scrollY") == 0
        assert page.locator("#answer").bounding_box()["y"] + page.locator("#answer").bounding_box()["height"] <= \
            screen["height"]
        stages = page.locator("#stages [data-stage]").evaluate_all("nodes => nodes.map((n) => n.dataset.stage)")
        assert stages == ["tokens", "ids", "embedding", "encoder", "probabilities", "explain"]

        # the padding: one cell, which shows every padding id when selected
        expect(page.locator("#ids li:visible")).to_have_count(5)
        expect(page.locator("#ids .pad-toggle")).to_have_text("<pad> (0) × 8")
        page.locator("#ids .pad-toggle").click()
        expect(page.locator("#ids li.pad:visible")).to_have_count(9)  # the band and its 8 ids
        page.locator("#ids .pad-toggle").click()
        expect(page.locator("#ids li:visible")).to_have_count(5)

        assert_curves_show_both_losses_and_the_kept_epoch(page, fitted)
        assert_chips_readable_with_their_numbers(page, fitted)
        save_screenshots(page, tmp_path, f"layout-{screen['width']}.png")
        items = page.evaluate(TEXT_BOXES)
        assert len(items) > 50 and overlapping(items) == []
        assert page.evaluate(BROKEN_WORDS) == []
        assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
        assert all(item["box"][0] >= -0.5 and item["box"][2] <= screen["width"] + 0.5 for item in items), \
            [item["text"] for item in items if item["box"][2] > screen["width"] + 0.5]

        # a text of spaces: not sent; the message is about the text
        requests = []
        page.on("request", lambda request: requests.append(request.url))
        page.locator("#text").fill("   ")
        page.locator("#text").press("Enter")
        expect(page.locator("#error")).to_be_visible()
        expect(page.locator("#error")).to_contain_text("text")
        assert "item 0" not in page.locator("#error").inner_text()
        expect(page.locator("#answer")).to_be_hidden()
        assert not [url for url in requests if "/v1/" in url]
        save_screenshots(page, tmp_path, f"blank-{screen['width']}.png")
