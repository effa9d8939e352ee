"""Draw book/_static/social-card.png, the picture a link to the book shows on social sites.

    .venv/bin/python tools/make_social_card.py

Social sites want a 1200x630 PNG (they do not show SVG), so the card is the
logo (book/_static/logo.svg) and the book's title laid out in HTML and
photographed by headless Chromium, the one the browser test uses. Run it again
after changing the logo or the title; the PNG is committed.
"""
import base64
import re
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "book" / "_static"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def title():
    match = re.search(r'(?m)^title:\s*"?(.*?)"?\s*$', (ROOT / "_config.yml").read_text())
    return match.group(1) if match else "minigrad"


def card_html():
    logo = base64.b64encode((STATIC / "logo.svg").read_bytes()).decode()
    name, _, subtitle = title().partition(":")
    return f"""<!doctype html><html><body style="margin:0">
<div style="width:1200px;height:630px;box-sizing:border-box;padding:70px 90px;
     background:#f1f5f9;
     font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;display:flex;flex-direction:column;
     justify-content:center;gap:36px;border-bottom:18px solid #ea7a1a">
  <img src="data:image/svg+xml;base64,{logo}" style="width:600px;height:240px" alt="">
  <div style="font-size:58px;font-weight:700;color:#1e293b;line-height:1.15">{(subtitle.strip() or name)[:1].upper() + (subtitle.strip() or name)[1:]}</div>
  <div style="font-size:30px;color:#475569">An open course: write an autograd engine and a
  small deep-learning framework, one idea per chapter.</div>
</div></body></html>"""


def main():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1200, "height": 630})
        page.set_content(card_html())
        page.screenshot(path=str(STATIC / "social-card.png"))
        browser.close()
    print(f"wrote {STATIC / 'social-card.png'}")


if __name__ == "__main__":
    main()
