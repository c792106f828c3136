"""The console in headless Chromium, as its users would use it.

The intake clerk files a case through the intake form and accepts it; the handler adds
information with the "补充信息" form; the leader finds the case counted on the dashboard. Then
the main pages at phone width (390 px): nothing may be wider than the screen. Screenshots of
every step are saved for a person to look at.

Run by .ci/browser-tests against a fresh `fengqiao serve`; prints "N passed, 0 failed".
"""

import argparse
import os
import re
import subprocess
import urllib.parse
import urllib.request
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

DESKTOP = (1280, 900)
PHONE = (390, 844)
TITLE = "浏览器测试：楼道堆物纠纷"


class Flow:
    def __init__(self, base, accounts, shots):
        self.base = base.rstrip("/")
        self.passwords = accounts
        self.shots = shots
        self.passed = 0
        options = webdriver.ChromeOptions()
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--lang=zh-CN",
                    "--hide-scrollbars", "--force-device-scale-factor=1"):
            options.add_argument(arg)
        options.add_experimental_option("prefs", {"intl.accept_languages": "zh-CN,zh"})
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.size(*DESKTOP)
        # A page that is being replaced after a submit leaves stale elements behind, and Chromium
        # may report a node "not in the document" (an unknown error) while it settles: keep
        # waiting. A condition never met still ends in a timeout, which fails the check.
        self.wait = WebDriverWait(self.driver, 20, ignored_exceptions=(WebDriverException,))

    def check(self, condition, what):
        if not condition:
            raise AssertionError(what)
        self.passed += 1
        print(f"ok: {what}")

    def size(self, width, height):
        self.driver.set_window_size(width, height)
        self.viewport = (width, height)

    def go(self, path):
        self.driver.get(self.base + path)
        self.wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    def shot(self, name, first_screen=False):
        """A screenshot of the whole page at the current width (and of the first screen alone,
        as a phone shows it, with `first_screen`)."""
        width, height = self.viewport
        if first_screen:
            path = os.path.join(self.shots, f"{name}.png")
            self.driver.save_screenshot(path)
            print(f"screenshot: {path}")
            name = f"{name}-full"
        full = self.driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
        self.driver.set_window_size(width, max(height, min(full + 140, 6000)))
        time.sleep(0.2)
        path = os.path.join(self.shots, f"{name}.png")
        self.driver.save_screenshot(path)
        self.driver.set_window_size(width, height)
        print(f"screenshot: {path}")

    def sign_in(self, login):
        self.driver.delete_all_cookies()
        self.go("/login")
        self.driver.find_element(By.ID, "login").send_keys(login)
        self.driver.find_element(By.ID, "password").send_keys(self.passwords[login])
        self.driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
        self.wait.until(lambda d: "/login" not in d.current_url)
        landed = self.wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "body").get_attribute("data-page"))
        self.check(landed == "work", f"{login} signs in and lands on my work")

    def open_form(self, summary):
        """Opens the action form under the summary `summary` and returns it. The page may still be
        settling after a navigation (Chromium then reports a node outside the document): retry."""
        def attempt(d):
            box = d.find_element(By.XPATH, f"//details[summary[normalize-space()='{summary}']]")
            if box.get_attribute("open") is None:
                box.find_element(By.TAG_NAME, "summary").click()
            return box if box.get_attribute("open") is not None else False
        return WebDriverWait(self.driver, 20, ignored_exceptions=(WebDriverException,)).until(attempt)

    def text(self):
        # The body may be replaced while it is read (a navigation finishing; Chromium may then
        # report a node outside the document): read it again.
        for _ in range(50):
            try:
                return self.driver.find_element(By.TAG_NAME, "body").text
            except WebDriverException:
                time.sleep(0.1)
        return self.driver.find_element(By.TAG_NAME, "body").text

    def opened_on_dashboard(self):
        self.go("/dashboard")
        card = self.driver.find_element(By.CSS_SELECTOR, "li[data-kpi='dash.opened'] .value")
        return int(card.text.strip())

    def no_overflow(self, what):
        overflow = self.driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth")
        self.check(overflow <= 1, f"{what} fits the phone's width (overflow {overflow}px)")

    def run(self):
        # The sign-in page shows the public facts.
        self.go("/login")
        self.check("25,547" in self.text() and "演示数据" in self.text(), "the sign-in page shows the regions and the demo notice")
        self.shot("01-login")

        # The leader notes the count before.
        self.sign_in("demo-luqiao-leader")
        before = self.opened_on_dashboard()
        self.check(before > 0, f"the dashboard counts the demo cases ({before})")

        # The intake clerk files a case through the form.
        self.sign_in("demo-luqiao-intake")
        self.shot("02-work-intake")
        self.go("/intake")
        self.driver.find_element(By.CSS_SELECTOR, "a[href='/intake/demo/dispute']").click()
        self.wait.until(EC.presence_of_element_located((By.ID, "intake-form")))
        county = Select(self.driver.find_element(By.ID, "county"))
        county.select_by_value("331004")
        # The script fills the towns of the county from the region API.
        self.wait.until(lambda d: len(Select(d.find_element(By.ID, "town")).options) > 5)
        town = Select(self.driver.find_element(By.ID, "town"))
        town_values = [o.get_attribute("value") for o in town.options if len(o.get_attribute("value") or "") == 9]
        self.check(bool(town_values), "the town list follows the county")
        town.select_by_value(town_values[0])
        self.driver.find_element(By.ID, "intake-title").send_keys(TITLE)
        Select(self.driver.find_element(By.ID, "intake-category")).select_by_value("neighbour")
        self.driver.find_element(By.ID, "intake-description").send_keys("三楼住户长期在楼道堆放杂物，邻居多次协商未果。")
        self.driver.find_element(By.ID, "intake-amount").send_keys("500")
        self.driver.find_element(By.ID, "intake-applicant-name").send_keys("测试申请人")
        self.driver.find_element(By.ID, "intake-applicant-phone").send_keys("13900001111")
        self.shot("03-intake-form")
        self.driver.find_element(By.CSS_SELECTOR, "#intake-form button[type=submit]").click()
        self.wait.until(lambda d: re.search(r"/cases/YS\d{4}-\d+", d.current_url))
        number = re.search(r"/cases/(YS\d{4}-\d+)", self.driver.current_url).group(1)
        self.check("案件已登记" in self.text() and TITLE in self.text(), f"the case {number} is registered")
        self.check("139****1111" in self.text() and "13900001111" not in self.text(), "the phone number is masked")
        self.shot("04-case-registered")

        # The clerk accepts it: the engine dispatches it to a unit.
        self.driver.find_element(By.CSS_SELECTOR, "button[data-action='accept']").click()
        self.wait.until(lambda d: "已完成：受理" in d.find_element(By.TAG_NAME, "body").text)
        self.check("办理中" in self.text(), "accepting moves the case to 办理中")
        self.shot("05-case-accepted")

        # The handler adds information with the edit form.
        self.sign_in("demo-luqiao-handler")
        self.go(f"/cases/{number}")
        edit = self.open_form("补充信息")
        edit.find_element(By.CSS_SELECTOR, "textarea[name='f.description']").send_keys("（承办人补充）已约双方周五到社区调解室协商。")
        edit.find_element(By.CSS_SELECTOR, "button[data-action='edit']").click()
        self.wait.until(lambda d: "已完成：补充信息" in d.find_element(By.TAG_NAME, "body").text)
        self.check("承办人补充" in self.text() and "更新信息" in self.text(), "the handler's edit is on the case and in its history")
        self.shot("06-case-handler-edit")

        # The dispatcher's board, desktop.
        self.sign_in("demo-luqiao-dispatcher")
        self.go("/dispatch")
        self.check("承办单位当前负荷" in self.text(), "the dispatch board shows the units' load")
        self.shot("07-dispatch")

        # The leader finds it counted.
        self.sign_in("demo-luqiao-leader")
        after = self.opened_on_dashboard()
        self.check(after == before + 1, f"the dashboard counts the new case ({before} → {after})")
        self.check(len(self.driver.find_elements(By.CSS_SELECTOR, "svg.map path[data-county]")) >= 9, "the county map is drawn")
        self.shot("08-dashboard")
        self.go("/cases?programme=demo&region=331004")
        self.check(number in self.text(), "the leader finds the case in the list")
        self.shot("09-cases")

        # The administrator.
        self.sign_in("demo-admin")
        self.go("/admin")
        self.check("【演示】路桥区社会治理中心" in self.text(), "the administrator lists the organisations")
        self.shot("10-admin")
        self.driver.find_element(By.LINK_TEXT, "【演示】路桥区社会治理中心").click()
        self.wait.until(lambda d: "/admin/orgs/" in d.current_url)
        self.check("demo-luqiao-intake" in self.text(), "the organisation's accounts are listed")
        self.shot("10b-admin-org")
        self.go("/admin/grids?region=331004")
        self.check("（生成）" in self.text(), "the generated grids of 路桥区 are listed")
        self.shot("10c-admin-grids")
        # The nightly run's Open311 servers: a bad address is named at its field, a good one listed.
        self.driver.find_element(By.LINK_TEXT, "Open311 拉取").click()
        self.wait.until(lambda d: d.current_url.endswith("/admin/open311"))
        address = self.driver.find_element(By.ID, "o-url")
        address.send_keys("10.0.0.5/open311/v2")
        self.driver.find_element(By.CSS_SELECTOR, "form[action='/admin/open311/add'] button[type=submit]").click()
        self.wait.until(lambda d: d.find_elements(By.ID, "o-url-err"))
        self.check("不是 http 或 https 地址" in self.text(), "a bad Open311 address is named at its field")
        address = self.driver.find_element(By.ID, "o-url")
        address.clear()
        address.send_keys("http://10.0.0.5:8080/open311/v2")
        self.driver.find_element(By.CSS_SELECTOR, "form[action='/admin/open311/add'] button[type=submit]").click()
        self.wait.until(lambda d: "done=added" in d.current_url)
        listed = self.text()
        self.check("http://10.0.0.5:8080/open311/v2" in listed and "演示管理员" in listed,
                   "the province's administrator adds an Open311 server for the nightly run, listed with who added it")
        self.shot("10d-admin-open311")
        # Removed again (after the confirmation), so no night of this test server pulls it.
        self.driver.find_element(By.CSS_SELECTOR, "form[action='/admin/open311/remove'] button[type=submit]").click()
        self.wait.until(EC.alert_is_present()).accept()
        self.wait.until(lambda d: "done=removed" in d.current_url)
        self.check("还没有每晚拉取的服务器" in self.text(), "the server is removed after the confirmation")

        # Phone width: every main page fits the screen.
        self.size(*PHONE)
        self.sign_in("demo-luqiao-intake")
        for path, name in [("/", "11-phone-work"), ("/cases", "12-phone-cases"), (f"/cases/{number}", "13-phone-case"),
                           ("/intake/demo/dispute", "14-phone-intake")]:
            self.go(path)
            self.no_overflow(path)
            self.shot(name, first_screen=True)
        self.sign_in("demo-luqiao-leader")
        self.go("/dashboard")
        self.no_overflow("/dashboard")
        self.shot("15-phone-dashboard", first_screen=True)

        # Financial disputes: the programme's intake form, then a demo dispute with an agreement
        # taken to judicial confirmation by the mediator and confirmed by the court's clerk.
        self.size(*DESKTOP)
        self.sign_in("demo-luqiao-intake")
        self.go("/intake/finance/dispute")
        self.check("共享法庭" in self.text() and "被申请金融机构" in self.text(), "the financial dispute intake form")
        self.shot("17-finance-intake")
        self.sign_in("demo-luqiao-mediator")
        self.go("/cases?programme=finance&state=agreed")
        agreed = self.driver.find_element(By.CSS_SELECTOR, "table a[href^='/cases/JR']").text
        self.go(f"/cases/{agreed}")
        self.driver.find_element(By.CSS_SELECTOR, "button[data-action='apply_confirmation']").click()
        self.wait.until(lambda d: "已完成：申请司法确认" in d.find_element(By.TAG_NAME, "body").text)
        self.check("司法确认审查中" in self.text(), f"{agreed} goes to judicial confirmation")
        self.sign_in("demo-luqiao-court")
        self.go(f"/cases/{agreed}")
        ruling = self.open_form("裁定调解协议有效")
        ruling.find_element(By.CSS_SELECTOR, "input[name='f.ruling_number']").send_keys("（2026）浙1004民特1号")
        ruling.find_element(By.CSS_SELECTOR, "button[data-action='confirm_valid']").click()
        self.wait.until(lambda d: "已完成：裁定调解协议有效" in d.find_element(By.TAG_NAME, "body").text)
        self.check("已达成协议" in self.text() and "（2026）浙1004民特1号" in self.text(), "the court confirms the agreement")
        self.shot("18-finance-timeline")
        self.agreement_pdf(agreed)

        # The financial-dispute figures, computed from the CFPB complaints the script imported
        # (1,000 rows of 2013 in 越城区): by channel, then drilled down to the online channel's
        # categories.
        self.sign_in("demo-leader")
        self.go("/figures?programme=finance&region=330602&from=2013-01-01&to=2013-12-31&by=channel")
        cases = self.driver.find_element(By.CSS_SELECTOR, "li[data-kpi='fig.cases'] .value").text.strip()
        self.check(cases == "1000", f"the figures count the 1,000 imported complaints (shows {cases})")
        self.check("化解成功率" in self.text() and "网上申请" in self.text(), "the figures page shows rates by channel")
        self.shot("20-finance-figures")
        self.driver.find_element(By.LINK_TEXT, "网上申请").click()
        self.wait.until(lambda d: "channel=online" in d.current_url)
        online = self.driver.find_element(By.CSS_SELECTOR, "li[data-kpi='fig.cases'] .value").text.strip()
        self.check(online == "691", f"drilling down to the online channel keeps its 691 complaints (shows {online})")
        self.check("住房按揭贷款" in self.text(), "the drill-down breaks the channel down by category")
        self.shot("21-finance-figures-drilled")
        self.sign_in("demo-luqiao-intake")
        self.go("/registry")
        self.check("消保服务站" in self.text() and "共享法庭" in self.text(), "the registry lists stations and shared court points")
        self.shot("22-registry")

        # English on request.
        self.size(*DESKTOP)
        self.go("/lang/en?next=/dashboard")
        self.check("Dashboard" in self.text() and "Closed on time" in self.text(), "the console switches to English")
        self.shot("16-english-dashboard")
        self.go("/lang/zh?next=/")

        # Vehicle-inspection review: a reviewer of another county opens the next record assigned
        # to them; listing records is refused to their role.
        self.sign_in("demo-yiwu-reviewer")
        self.go("/")
        self.check("下一件分配给我的案件" in self.text() and "浙G" in self.text(), "the reviewer sees their next assigned record")
        self.shot("23-reviewer-next-record")
        self.go("/cases?programme=inspection")
        self.check("浙G" not in self.text(), "the reviewer cannot list records")
        # The next record itself: the items, the instrument values, the photos with their
        # watermark times, the insurance policy and the rules of the standard that fired.
        self.go("/")
        link = self.driver.find_element(By.CSS_SELECTOR, "a[href^='/cases/JY']")
        number = link.get_attribute("href").rsplit("/", 1)[1]
        link.click()
        self.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "section[data-record]"))
        body = self.text()
        self.check("检验数据" in body and "一轴制动工位" in body and "交强险" in body and "触发的审核规则" in body,
                   f"the reviewer's record {number} shows its items, photos, insurance and fired rules")
        self.check("审核通过" in body, "the reviewer may pass or reject it")
        self.shot("24-reviewer-record", first_screen=True)

        # Supervision: the station ranking and the sub-centre dashboard of 金华.
        self.sign_in("demo-jinhua-supervisor")
        self.go("/inspection/ranking")
        rows = self.driver.find_elements(By.CSS_SELECTOR, "table.ranking tbody tr")
        self.check(len(rows) >= 2 and "330702-S" in self.text(), "the supervisor sees the month's station ranking")
        points = [int(r.find_elements(By.CSS_SELECTOR, "td")[1].text) for r in rows]
        self.check(points == sorted(points, reverse=True), "stations are ranked by points, highest first")
        self.shot("25-station-ranking")
        self.go("/inspection/ranking?month=2026-13")
        self.check("月份应为 YYYY-MM" in self.text(), "a wrong month is named")
        self.go("/inspection/evaluation")
        body = self.text()
        self.check("金东区" in body and "义乌市" in body and "复核不一致率" in body,
                   "the sub-centre dashboard shows each county's and reviewer's figures")
        self.shot("26-subcentre-dashboard")
        self.sign_in("demo-yiwu-reviewer")
        self.go("/inspection/ranking")
        self.check("330702-S" not in self.text(), "a reviewer cannot read the station ranking")

        # Risk warnings: the grid worker's board, highest level first, with the day's roll-up.
        self.sign_in("demo-luqiao-grid")
        self.go("/warnings")
        levels = [li.get_attribute("data-level") for li in self.driver.find_elements(By.CSS_SELECTOR, "ul.warnings:not(.library) li.warning")]
        order = ["red", "orange", "yellow", "blue"]
        self.check(len(levels) >= 3 and levels == sorted(levels, key=order.index), f"open warnings by level: {levels}")
        cleared = int(self.driver.find_element(By.CSS_SELECTOR, "tr[data-level='yellow'] td:nth-of-type(2)").text)
        self.check(cleared >= 1, "the roll-up counts the yellow warning cleared today")
        self.shot("27-warnings-board")

        # The governance index of 路桥区, drilled down to a town.
        self.sign_in("demo-luqiao-leader")
        self.go("/index")
        value = self.driver.find_element(By.CSS_SELECTOR, "[data-index]").get_attribute("data-index")
        self.check(value != "—" and 0 <= float(value) <= 100, f"the index of the county is between 0 and 100 ({value})")
        self.check(len(self.driver.find_elements(By.CSS_SELECTOR, "ul.bars li")) == 5, "five dimensions")
        self.shot("28-governance-index")
        towns = self.driver.find_elements(By.CSS_SELECTOR, "table.index tbody th a")
        self.check(len(towns) >= 1, "the towns of the county are listed")
        towns[0].click()
        self.wait.until(lambda d: "region=331004" in d.current_url)
        self.check("返回上级地区" in self.text(), "a town's index links back up to the county")

        # The heat map of 路桥区: grids coloured by their cases, then the point density.
        self.go("/heatmap?programme=demo")
        cells = self.driver.find_elements(By.CSS_SELECTOR, "svg.heatmap path")
        coloured = [c for c in cells if c.get_attribute("fill") != "#f7f7f7"]
        self.check(len(cells) > 50 and len(coloured) >= 3, f"{len(coloured)} of {len(cells)} grids carry cases")
        self.check(len(self.driver.find_elements(By.CSS_SELECTOR, "ul.legend li")) >= 2, "the map has a legend")
        self.shot("29-heatmap-grids")
        self.go("/heatmap?programme=demo&layer=density")
        self.check(len(self.driver.find_elements(By.CSS_SELECTOR, "svg.heatmap rect")) > 10, "the density layer is drawn")
        self.shot("30-heatmap-density")
        # The stored risk events (the demo's grid-patrol reports, ingested through their source).
        self.go("/heatmap?programme=risk_events")
        cells = self.driver.find_elements(By.CSS_SELECTOR, "svg.heatmap path")
        coloured = [c for c in cells if c.get_attribute("fill") != "#f7f7f7"]
        self.check(len(coloured) >= 3, f"{len(coloured)} grids carry risk events")
        self.shot("31-heatmap-risk-events")
        # The forecast layer: the next week per grid by our model over the stored events,
        # coloured by warning level; then the same map downloaded as a PNG (screenshot 33 is it).
        self.go("/heatmap?layer=forecast")
        cells = self.driver.find_elements(By.CSS_SELECTOR, "svg.heatmap path")
        levelled = [c for c in cells if c.get_attribute("fill") != "#f7f7f7"]
        self.check(len(levelled) >= 1, f"{len(levelled)} grids reach a warning level in the forecast")
        self.check("预测概率最高的网格" in self.text(), "the likeliest grids are listed")
        self.check("模型拟合于" in self.text() and "条风险事件" in self.text(),
                   "the page says when the forecast was fitted and on how many events")
        self.shot("32-heatmap-forecast")
        link = self.driver.find_element(By.XPATH, "//a[contains(@href, '/heatmap.png')]").get_attribute("href")
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in self.driver.get_cookies())
        request = urllib.request.Request(link, headers={"Cookie": cookies})
        with urllib.request.urlopen(request, timeout=60) as reply:
            kind, png = reply.headers.get("Content-Type"), reply.read()
        self.check(kind == "image/png" and png.startswith(b"\x89PNG"), "the forecast map downloads as a PNG")
        with open(os.path.join(self.shots, "33-heatmap-forecast-export.png"), "wb") as f:
            f.write(png)
        # The check of a forecast that is over: the link moves the map back a week, and the page
        # says how many of the week's events the highest-ranked cells held, beside the baseline.
        self.driver.find_element(By.ID, "forecast-check-link").click()
        check = self.driver.find_element(By.ID, "forecast-check").text
        self.check("预测检验" in check and "PAI" in check and "按上一期起数" in check,
                   "a forecast whose week is over is checked against what happened")
        self.check("Brier 分数" in self.driver.find_element(By.ID, "forecast-calibration").text,
                   "and its probabilities against whether anything happened")
        self.shot("37-heatmap-forecast-check")
        # Back on today's forecast, the record: the last four weeks checked now, then the track
        # record the CI script filled (`fengqiao risk check-forecasts`), a quarter in all, and
        # the sum of them against previous-period counts.
        self.go("/heatmap?layer=forecast")
        rows = self.driver.find_elements(By.CSS_SELECTOR, "#forecast-record tbody tr")
        self.check(len(rows) == 13 and "PAI" in rows[0].text, f"today's forecast lists a quarter of weeks' checks ({len(rows)})")
        self.check("取自档案" in rows[12].text, "the older weeks come from the track record")
        summary = self.driver.find_element(By.ID, "record-summary").text
        self.check("有检验的 13 期" in summary and "上一期" in summary, "the record is summed up against previous counts")
        bins = self.driver.find_elements(By.CSS_SELECTOR, "#record-reliability tbody tr")
        self.check(len(bins) >= 2, f"the record's probabilities are set against what happened ({len(bins)} ranges)")
        self.shot("38-heatmap-forecast-record")
        # The whole track record on its own page (a year by default), and as a workbook.
        self.driver.find_element(By.ID, "record-archive-link").click()
        periods = self.driver.find_elements(By.CSS_SELECTOR, "#record-periods tbody tr")
        self.check(len(periods) == 13 and "PAI" in periods[0].text, f"the track record page lists the checked weeks ({len(periods)})")
        self.check("有检验的 13 期" in self.driver.find_element(By.ID, "record-summary").text, "and sums them up")
        link = self.driver.find_element(By.ID, "record-xlsx").get_attribute("href")
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in self.driver.get_cookies())
        with urllib.request.urlopen(urllib.request.Request(link, headers={"Cookie": cookies}), timeout=60) as reply:
            named, book = reply.headers.get("Content-Disposition", ""), reply.read()
        self.check(book.startswith(b"PK") and "forecast-record-331004-7d" in named, "the track record downloads as a workbook")
        self.shot("39-forecast-track-record")
        # Safety coins: the county's page with its rules and the lookup; the leader reads the
        # ledgers, and the award and redemption forms are for the staff who enter them.
        self.go("/coins")
        self.check("平安金币" in self.text() and "参加平安巡防（+20）" in self.text(), "the safety-coin page lists the rules")
        self.check("发放与兑换由网格员等经办人员办理" in self.text() and "/coins/award" not in self.driver.page_source,
                   "the leader's coin page has no award form")
        self.shot("34-coins")
        # The forecast a month ahead: shaded by share of the highest grid, said so on the page.
        self.go("/heatmap?layer=forecast&horizon=30d")
        self.check("30 天内至少发生一起" in self.text() and "按与最高网格之比着色" in self.text(),
                   "the month's forecast layer is shaded and says so")
        self.shot("35-heatmap-forecast-month")

        # The 72-hour trace: Putuo's risk analyst traces a demo boat of the collision case; the
        # boat it worked beside is listed with it, and the trace is drawn.
        self.sign_in("demo-putuo-tracer")
        self.go("/trace")
        form = self.driver.find_element(By.CSS_SELECTOR, "form[action='/trace']")
        form.find_element(By.NAME, "id").send_keys("浙普渔演示03")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        self.wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "svg.trace path") or "没有此对象" in self.text())
        self.check(len(self.driver.find_elements(By.CSS_SELECTOR, "svg.trace path")) == 1, "the boat's track is drawn")
        self.check("浙普渔演示04" in self.text() and self.driver.current_url.endswith("/trace"), "the boat beside it is listed; the subject is not in the address")
        self.shot("36-trace")
        # The same trace as a workbook: the form's second button posts it to /trace/export.xlsx;
        # the file's name says when, not whom.
        form = self.driver.find_element(By.CSS_SELECTOR, "form[action='/trace']")
        button = form.find_element(By.CSS_SELECTOR, "button[formaction='/trace/export.xlsx']")
        self.check(button.text == "导出 Excel", "the trace offers an Excel export")
        fields = {e.get_attribute("name"): e.get_attribute("value") for e in form.find_elements(By.CSS_SELECTOR, "input[name]")}
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in self.driver.get_cookies())
        request = urllib.request.Request(self.base + "/trace/export.xlsx", data=urllib.parse.urlencode(fields).encode(),
                                         headers={"Cookie": cookies})
        with urllib.request.urlopen(request, timeout=60) as reply:
            kind, named, book = reply.headers.get("Content-Type"), reply.headers.get("Content-Disposition", ""), reply.read()
        self.check("spreadsheetml" in kind and book.startswith(b"PK") and "trace-" in named and "浙普渔" not in named,
                   f"the trace downloads as a workbook named by time ({named})")

    def agreement_pdf(self, number):
        """The case's mediation agreement, produced as the console's form does (a POST with the
        session's CSRF token), its first page turned into a PNG with poppler's pdftoppm."""
        form = self.driver.find_element(By.CSS_SELECTOR, f"form[action='/cases/{number}/documents/mediation_agreement']")
        csrf = form.find_element(By.NAME, "csrf").get_attribute("value")
        cookies = "; ".join(f"{c['name']}={c['value']}" for c in self.driver.get_cookies())
        request = urllib.request.Request(
            f"{self.base}/cases/{number}/documents/mediation_agreement",
            data=urllib.parse.urlencode({"csrf": csrf}).encode(),
            headers={"Cookie": cookies, "Content-Type": "application/x-www-form-urlencoded"},
        )
        with urllib.request.urlopen(request, timeout=30) as reply:
            kind, pdf = reply.headers.get("Content-Type"), reply.read()
        self.check(kind == "application/pdf" and pdf.startswith(b"%PDF-"), f"the mediation agreement of {number} is a PDF")
        path = os.path.join(self.shots, "19-agreement.pdf")
        with open(path, "wb") as f:
            f.write(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", path,
                        os.path.join(self.shots, "19-agreement-pdf")], check=True)
        print(f"screenshot: {os.path.join(self.shots, '19-agreement-pdf.png')}")

    def close(self):
        self.driver.quit()


def read_accounts(path):
    passwords = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or "password:" not in line:
                continue
            login = line.split("\t", 1)[0]
            passwords[login] = line.rsplit("password:", 1)[1].strip()
    return passwords


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--accounts", required=True)
    parser.add_argument("--shots", required=True)
    args = parser.parse_args()
    os.makedirs(args.shots, exist_ok=True)
    flow = Flow(args.base, read_accounts(args.accounts), args.shots)
    failed = 0
    try:
        flow.run()
    except Exception as error:  # noqa: BLE001 - any failure is reported with a screenshot
        failed = 1
        print(f"FAILED: {type(error).__name__}: {error}")
        try:
            flow.shot("99-failure")
            print(f"at {flow.driver.current_url}")
        except Exception:  # noqa: BLE001
            pass
    finally:
        flow.close()
    print(f"browser: {flow.passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
