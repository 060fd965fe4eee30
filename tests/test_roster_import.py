"""Roster import: a messy real-world workbook and a CSV, previewed row by row, committed whole;
activation codes; the command line."""
from __future__ import annotations

import io
import re
from datetime import date, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from helpers import AuthActions, csrf_from
from learning.audit.models import AuditEvent
from learning.auth.models import ActivationCode
from learning.orgs.models import Member, MemberKind
from learning.timeutil import utcnow


def messy_workbook(branch: str, *, bad: bool = True) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(["骑手之家党支部 党员名册（2026 年）"])  # a title row merged over the columns
    sheet.merge_cells("A1:G1")
    sheet.append([" 姓 名 ", "手机号码", "出生日期", "职业", "所在支部编码", "党员类别", "入党时间"])
    sheet.append(["张 三", "１３９ １２３４ ５６７８", 1990, "外卖骑手", branch, "正式党员", 42186])  # 2015-07-01 serial
    sheet.append(["李四", "139-8765-4321", "1996/3/12", "快递员", branch.lower(), "预备", "2025年6月20日"])
    sheet.append(["王五", 13700001111, datetime(1985, 5, 1), "", "", "Full", date(2010, 7, 1)])
    sheet.append([None, None, None, None, None, None, None])  # blank line: skipped
    if bad:
        sheet.append(["赵六", "12345", 1990, "主播", branch, "正式", "2015-02-30"])
        sheet.append(["钱七", "13912345678", 1992, "主播", "NOPE-1", "党员", "2016-07-01"])
        sheet.append(["孙八", "13600002222", 2020, "主播", "CA-2", "预备党员", "2030-01-01"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client, code: str, data: bytes, filename: str):
    page = client.get(f"/orgs/{code}/import")
    return client.post(f"/orgs/{code}/import", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)),
        "roster": (io.BytesIO(data), filename)}, content_type="multipart/form-data")


def test_messy_workbook_preview_reports_every_row_and_writes_nothing(client, city, db):
    AuthActions(client).login("13800000001")
    before = db.session.scalar(select(Member.id).order_by(Member.id.desc()))
    page = _upload(client, "CA-1", messy_workbook("CA-1"), "名册.xlsx")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    outcomes = dict(re.findall(r'<td class="num">(\d+)</td><td><span class="tag (\w+)', html))
    assert outcomes == {"3": "new", "4": "new", "5": "new", "7": "err", "8": "err", "9": "err"}
    assert "新增" in html and "确认导入" not in html
    # row numbers as the spreadsheet shows them (title row 1, header row 2)
    assert "手机号“12345”不是有效的 11 位手机号码" in html
    assert "入党日期“2015-02-30”不存在" in html
    assert "手机号与第 3 行重复" in html  # 13912345678 again on row 9 (full-width digits on row 3)
    assert "支部编码 NOPE-1 不存在" in html
    assert "党员类别“党员”无法识别" in html
    assert "支部 CA-2 不在" in html and "出生年份 2020 不合理" in html and "在今天之后" in html
    assert "全部行都没有写入" in html
    db.session.rollback()
    assert db.session.scalar(select(Member.id).order_by(Member.id.desc())) == before


def test_clean_workbook_commits_all_rows_with_activation_codes(client, city, db, app):
    AuthActions(client).login("13800000001")
    page = _upload(client, "CA-1", messy_workbook("CA-1", bad=False), "roster.xlsx")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "确认导入" in html
    action = re.search(r'action="(/orgs/CA-1/import/[^"]+)"', html).group(1)
    done = client.post(action, data={"csrf_token": csrf_from(html)})
    text = done.get_data(as_text=True)
    assert done.status_code == 200
    codes = re.findall(r'<td class="code">([A-Z0-9]{5}-[A-Z0-9]{5})</td>', text)
    assert len(codes) == 3
    db.session.rollback()
    zhang = db.session.scalar(select(Member).where(Member.phone == "13912345678"))
    assert zhang.name == "张三" and zhang.birth_year == 1990 and zhang.joined_at == date(2015, 7, 1)
    assert zhang.member_kind == MemberKind.FULL and zhang.password_hash is None and zhang.must_change_password
    li = db.session.scalar(select(Member).where(Member.phone == "13987654321"))
    assert li.member_kind == MemberKind.PROBATIONARY and li.joined_at == date(2025, 6, 20) and li.birth_year == 1996
    wang = db.session.scalar(select(Member).where(Member.phone == "13700001111"))
    assert wang.home_org.code == "CA-1" and wang.occupation == "其他" and wang.birth_year == 1985
    stored = db.session.scalars(select(ActivationCode.code_hash)).all()
    assert len(stored) == 3 and not any(code.replace("-", "") in h for code in codes for h in stored)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "roster_imported"))
    assert event.detail["new"] == 3 and event.target == "org:CA-1"
    # The same token cannot be committed twice, and a second upload finds nothing new.
    again = client.post(action, data={"csrf_token": csrf_from(html)})
    assert again.status_code == 400
    second = _upload(client, "CA-1", messy_workbook("CA-1", bad=False), "roster.xlsx").get_data(as_text=True)
    assert second.count("无变化") >= 4


def test_activation_code_sets_password_once_and_expires(client, city, db, app):
    from learning.auth.operations import issue_activation_code
    from learning.orgs.operations import create_member

    member = create_member(name="新党员", phone="13911112222", home_org=city["a1"], password_hash=None,
                           birth_year=1995, occupation="快递员", member_kind="full", joined_at=None,
                           since=date(2026, 1, 1))
    member.must_change_password = True
    code = issue_activation_code(member, actor=city["secretary"], valid_days=14)
    expired_member = create_member(name="过期", phone="13911113333", home_org=city["a1"], password_hash=None,
                                   birth_year=1995, occupation="快递员", member_kind="full", joined_at=None,
                                   since=date(2026, 1, 1))
    old = issue_activation_code(expired_member, actor=city["secretary"], valid_days=14)
    db.session.flush()
    db.session.scalar(select(ActivationCode).where(ActivationCode.member_id == expired_member.id)).expires_at = \
        utcnow().replace(year=2000)
    db.session.commit()

    def activate(phone, code):
        page = client.get("/activate")
        return client.post("/activate", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                              "phone": phone, "code": code, "new": "my own password",
                                              "confirm": "my own password"})

    assert activate("13911113333", old).status_code == 401  # expired
    assert activate("13911112222", "AAAAA-BBBBB").status_code == 401
    response = activate("139 1111 2222", code.lower())
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # logged in, password set: no forced redirect
    AuthActions(client).logout()
    assert activate("13911112222", code).status_code == 401  # used once
    assert AuthActions(client).login("13911112222", "my own password").status_code == 302
    db.session.rollback()
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"activation_code_issued", "account_activated", "activation_failed"} <= actions


def test_must_change_password_redirects_everywhere_but_the_password_page(client, city, db):
    city["member"].must_change_password = True
    db.session.commit()
    assert AuthActions(client).login("13800000002").headers["Location"].endswith("/account/password")
    assert client.get("/courses").headers["Location"].endswith("/account/password")
    assert client.get("/account/password").status_code == 200
    assert client.get("/privacy").status_code == 200


def test_csv_in_gb18030_and_utf8_bom(client, city, db):
    AuthActions(client).login("13800000001")
    text = "姓名,手机号,出生年份或日期,职业,支部编码,党员类别,入党日期\n周九,13566667777,1988,网约车司机,,正式,2012-07-01\n"
    for data in (text.encode("gb18030"), b"\xef\xbb\xbf" + text.encode("utf-8")):
        html = _upload(client, "CA-1", data, "roster.csv").get_data(as_text=True)
        assert "周九" in html and "确认导入" in html
    bad = _upload(client, "CA-1", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "old.xls")
    assert bad.status_code == 400 and "另存为 .xlsx" in bad.get_data(as_text=True)
    nohead = _upload(client, "CA-1", "a,b\n1,2\n".encode(), "x.csv")
    assert nohead.status_code == 400 and "没有找到表头" in nohead.get_data(as_text=True)


def test_english_errors_on_request(client, city):
    AuthActions(client).login("13800000001")
    client.get("/?lang=en")
    html = _upload(client, "CA-1", messy_workbook("CA-1"), "r.xlsx").get_data(as_text=True)
    assert "is not a valid 11-digit mobile number" in html


def test_sibling_cannot_commit_someone_elses_preview(app, city):
    owner, other = app.test_client(), app.test_client()
    AuthActions(owner).login("13800000003")  # committee secretary
    html = _upload(owner, "CA-1", messy_workbook("CA-1", bad=False), "r.xlsx").get_data(as_text=True)
    action = re.search(r'action="(/orgs/CA-1/import/[^"]+)"', html).group(1)
    AuthActions(other).login("13800000001")  # may import into CA-1, but it is not their upload
    page = other.get("/orgs/CA-1/import")
    assert other.post(action, data={"csrf_token": csrf_from(page.get_data(as_text=True))}).status_code == 400


def test_template_download_is_a_workbook_the_importer_reads(client, city, tmp_path):
    from learning.roster.parse import read_roster

    AuthActions(client).login("13800000001")
    response = client.get("/roster/template.xlsx")
    assert response.status_code == 200 and response.data[:2] == b"PK"
    path = tmp_path / "t.xlsx"
    path.write_bytes(response.data)
    rows = read_roster(path)
    assert [r.values["name"] for r in rows] == ["张三", "李四", "王五"]
    assert rows[2].values["kind"] == "积极分子"


@pytest.mark.parametrize("dry_run", [True, False])
def test_cli_import(runner, city, db, tmp_path, dry_run):
    path = tmp_path / "r.xlsx"
    path.write_bytes(messy_workbook("CA-1", bad=False))
    args = ["roster", "import", str(path), "--org", "CA-1"] + (["--dry-run"] if dry_run else [])
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    assert "new 3" in result.output
    db.session.rollback()
    created = db.session.scalar(select(Member).where(Member.phone == "13700001111"))
    assert (created is None) == dry_run
    assert ("activation code" in result.output) != dry_run
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(messy_workbook("CA-1"))
    result = runner.invoke(args=["roster", "import", str(bad), "--org", "CA-1"])
    assert result.exit_code == 1 and "不是有效的 11 位手机号码" in result.output
