"""积分兑换: balances, codes, redemptions at stations, and the races that must never spend a
point or an item twice."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from helpers import AuthActions, api_token, bearer, csrf_from
from learning.audit.models import AuditEvent
from learning.extensions import db
from learning.redemption import operations
from learning.redemption.models import Redemption, RedemptionCode, StationItem, StationStaff
from learning.study.counters import member_year
from learning.study.models import MemberYear, PointsEntry
from learning.study.reconcile import differences
from learning.timeutil import local_today, utcnow


def grant_points(member, points: int, reference: str = "grant") -> None:
    """Points earned, written like the ledger does (entry + the year's counter)."""
    db.session.rollback()  # end any read snapshot older than the requests' commits
    today = local_today()
    db.session.add(PointsEntry(member_id=member.id, behaviour="course_complete", reference=reference, day=today,
                               year=today.year, points=points, awarded_at=utcnow()))
    member_year(member.id, today.year).points += points
    db.session.commit()


@pytest.fixture
def station(city, make_member, app):
    """A 驿站 serving committee CA (both its branches) with three items and one staff member."""
    admin = city["admin"]
    s = operations.create_station(name="骑手驿站", address="城南路 1 号", orgs=[city["a1"].parent], actor=admin)
    items = {name: operations.add_item(s, name=name, price=price, stock=stock, actor=admin)
             for name, price, stock in (("雨衣", 30, 5), ("充电宝", 50, 1), ("头盔", 80, 0))}
    staff = make_member(city["root"], name="驿站小张", phone="13700000001")
    operations.add_staff(s, staff, actor=admin)
    db.session.commit()
    return {"station": s, "items": {k: v.id for k, v in items.items()}, "staff": staff}


def code_for(member) -> str:
    db.session.rollback()
    code = operations.new_code(member).code
    db.session.commit()
    return code


def staff_client(app, phone="13700000001"):
    client = app.test_client()
    return client, bearer(api_token(client, phone))


def body(code, station, *picks):
    return {"code": code, "station_id": station.id, "items": [{"item_id": i, "quantity": q} for i, q in picks]}


def test_balance_is_earned_minus_redeemed_and_history_lists_both(app, city, station):
    member = city["member"]
    grant_points(member, 40, "a")
    grant_points(member, 20, "b")
    code = code_for(member)
    client, headers = staff_client(app)
    response = client.post("/api/v1/redemptions", json=body(code, station["station"], (station["items"]["雨衣"], 1)),
                           headers=headers)
    assert response.status_code == 201, response.json
    assert response.json["points"] == 30 and response.json["balance"] == 30
    assert response.json["member"]["phone"] == "138****0002"
    mine = app.test_client()
    answer = mine.get("/api/v1/me/points?per_page=2", headers=bearer(api_token(mine, member.phone))).json
    assert (answer["balance"], answer["earned"], answer["redeemed"], answer["total"]) == (30, 60, 30, 3)
    assert [line["kind"] for line in answer["history"]] == ["redeemed", "earned"]
    assert answer["history"][0] == {**answer["history"][0], "label": "骑手驿站", "points": -30}
    page3 = mine.get("/api/v1/me/points?per_page=2&page=2", headers=bearer(api_token(mine, member.phone))).json
    assert len(page3["history"]) == 1 and page3["history"][0]["kind"] == "earned"
    # Spending leaves the points earned (the 积分晾晒 ranking, MemberYear) alone.
    db.session.rollback()
    assert db.session.scalar(select(MemberYear.points).where(MemberYear.member_id == member.id)) == 60
    assert differences() == []
    AuthActions(mine).login(member.phone)
    page = mine.get("/points").get_data(as_text=True)
    assert "骑手驿站" in page and ">30<" in page and "-30" in page


def test_member_page_shows_a_qr_code_not_the_phone(app, city, station, client, auth):
    auth.login(city["member"].phone)
    page = client.get("/points").get_data(as_text=True)
    assert "data:image/svg+xml" not in page  # no code until asked for one
    response = client.post("/points/code", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    page = client.get("/points").get_data(as_text=True)
    db.session.rollback()
    code = db.session.scalar(select(RedemptionCode.code).where(RedemptionCode.member_id == city["member"].id))
    assert "data:image/svg+xml" in page and f"{code[:4]} {code[4:8]} {code[8:]}" in page
    assert city["member"].phone not in page
    assert "雨衣" in page and "充电宝" in page


def test_staff_page_redeems_in_one_step_and_is_audited(app, city, station):
    member = city["member"]
    grant_points(member, 200)
    code = code_for(member)
    client = app.test_client()
    AuthActions(client).login("13700000001")
    s = station["station"]
    page = client.get(f"/stations/{s.id}/redeem?code={code[:4]} {code[4:]}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and member.name in text and "138****0002" in text and member.phone not in text
    response = client.post(f"/stations/{s.id}/redeem", data={
        "csrf_token": csrf_from(text), "code": code, f"qty_{station['items']['雨衣']}": "2",
        f"qty_{station['items']['充电宝']}": "1"})
    assert response.status_code == 302
    db.session.rollback()
    stock = dict(db.session.execute(select(StationItem.name, StationItem.stock)).all())
    assert stock == {"雨衣": 3, "充电宝": 0, "头盔": 0}
    redemption = db.session.scalar(select(Redemption))
    assert redemption.points == 110 and [(l.name, l.quantity) for l in redemption.lines] == [("雨衣", 2), ("充电宝", 1)]
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "points_redeemed"))
    assert event.actor_id == station["staff"].id and event.detail["points"] == 110
    day = client.get(f"/stations/{s.id}").get_data(as_text=True)
    assert member.name in day and "雨衣×2" in day
    for fmt in ("xlsx", "csv"):
        export = client.get(f"/stations/{s.id}/export?format={fmt}")
        assert export.status_code == 200
        data = export.data
        export.close()
        if fmt == "csv":
            assert data.startswith("\ufeff".encode()) and "138****0002" in data.decode() and "库存 3" in data.decode()
        else:
            import io
            cells = [c for row in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True) for c in row]
            assert "雨衣" in cells and 110 in cells and member.phone not in cells


def test_reused_expired_forged_and_unserved_codes_are_refused(app, city, station, make_org, make_member):
    member = city["member"]
    grant_points(member, 500)
    client, headers = staff_client(app)
    s, raincoat = station["station"], station["items"]["雨衣"]
    code = code_for(member)
    assert client.post("/api/v1/redemptions", json=body(code, s, (raincoat, 1)), headers=headers).status_code == 201
    again = client.post("/api/v1/redemptions", json=body(code, s, (raincoat, 1)), headers=headers)
    assert again.status_code == 409 and "用过" in again.json["error"]
    db.session.rollback()
    stale = operations.new_code(member)
    stale.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    expired = client.post("/api/v1/redemptions", json=body(stale.code, s, (raincoat, 1)), headers=headers)
    assert expired.status_code == 410 and "过期" in expired.json["error"]
    forged = client.post("/api/v1/redemptions", json=body("000000000000", s, (raincoat, 1)), headers=headers)
    assert forged.status_code == 404 and "无效" in forged.json["error"]
    # A member whose branch the station does not serve.
    elsewhere = make_member(make_org("别处党支部", parent=city["root"]), phone="13700000009")
    grant_points(elsewhere, 500)
    far = code_for(elsewhere)
    assert client.post("/api/v1/redemptions", json=body(far, s, (raincoat, 1)), headers=headers).status_code == 403
    # Out of stock and out of points: refused whole, nothing half-written.
    fresh = code_for(member)
    helmet = client.post("/api/v1/redemptions", json=body(fresh, s, (raincoat, 1), (station["items"]["头盔"], 1)),
                         headers=headers)
    assert helmet.status_code == 409 and "库存不足" in helmet.json["error"]
    db.session.rollback()
    assert db.session.scalar(select(StationItem.stock).where(StationItem.id == raincoat)) == 4
    assert db.session.scalar(select(RedemptionCode.used_at).where(RedemptionCode.code == fresh)) is None
    poor = city["other"]
    grant_points(poor, 20)
    small = code_for(poor)
    broke = client.post("/api/v1/redemptions", json=body(small, s, (raincoat, 1)), headers=headers)
    assert broke.status_code == 409 and "积分不足" in broke.json["error"]
    # Bad bodies are 400 with the field named.
    for bad in ({"code": fresh, "station_id": s.id, "items": []},
                {"code": fresh, "station_id": s.id, "items": [{"item_id": raincoat, "quantity": 0}]},
                {"code": fresh, "station_id": "x", "items": [{"item_id": raincoat, "quantity": 1}]}):
        assert client.post("/api/v1/redemptions", json=bad, headers=headers).status_code == 400


def test_only_the_stations_staff_redeem(app, city, station, make_member):
    grant_points(city["member"], 500)
    code = code_for(city["member"])
    other = operations.create_station(name="别的驿站", address="", orgs=[city["a1"].parent], actor=city["admin"])
    operations.add_staff(other, city["sibling"], actor=city["admin"])
    db.session.commit()
    s, raincoat = station["station"], station["items"]["雨衣"]
    for phone in ("13800000002", "13800000004", "13800000001"):  # a member, another station's staff, a secretary
        client, headers = staff_client(app, phone)
        response = client.post("/api/v1/redemptions", json=body(code, s, (raincoat, 1)), headers=headers)
        assert response.status_code == 403, phone
    # Staff never serve their own code.
    grant_points(station["staff"], 500)
    client, headers = staff_client(app)
    own = client.post("/api/v1/redemptions", json=body(code_for(station["staff"]), s, (raincoat, 1)), headers=headers)
    assert own.status_code == 403 and "自己" in own.json["error"]
    # An item of another station cannot be redeemed here.
    db.session.rollback()
    other_item = operations.add_item(other, name="水杯", price=1, stock=5, actor=city["admin"])
    db.session.commit()
    client, headers = staff_client(app)
    assert client.post("/api/v1/redemptions", json=body(code, s, (other_item.id, 1)), headers=headers).status_code == 400


def _race(app, requests):
    """Send the requests at the same moment from separate clients; return the statuses."""
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(requests))

    def go(client, headers, payload):
        barrier.wait()
        response = client.post("/api/v1/redemptions", json=payload, headers=headers)
        with lock:
            statuses.append(response.status_code)

    threads = [threading.Thread(target=go, args=r) for r in requests]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(statuses)


@pytest.mark.parametrize("attempt", range(3))
def test_two_staff_racing_for_the_last_item(app, city, station, make_member, attempt):
    second = make_member(city["root"], phone="13700000002")
    db.session.add(StationStaff(station_id=station["station"].id, member_id=second.id))
    db.session.commit()
    grant_points(city["member"], 500)
    grant_points(city["other"], 500)
    codes = [code_for(city["member"]), code_for(city["other"])]
    power_bank = station["items"]["充电宝"]  # stock 1
    requests = [(*staff_client(app, phone), body(code, station["station"], (power_bank, 1)))
                for phone, code in zip(("13700000001", "13700000002"), codes)]
    assert _race(app, requests) == [201, 409]
    db.session.rollback()
    assert db.session.scalar(select(StationItem.stock).where(StationItem.id == power_bank)) == 0
    assert db.session.scalar(select(func.count()).select_from(Redemption)) == 1


@pytest.mark.parametrize("attempt", range(3))
def test_two_codes_racing_for_the_last_points(app, city, station, make_member, attempt):
    second = make_member(city["root"], phone="13700000002")
    db.session.add(StationStaff(station_id=station["station"].id, member_id=second.id))
    db.session.commit()
    grant_points(city["member"], 50)  # a raincoat (30) or a power bank (50), not both
    codes = [code_for(city["member"]), code_for(city["member"])]
    # Different items, so nothing but the member's balance is shared between the two.
    picks = [(station["items"]["雨衣"], 1), (station["items"]["充电宝"], 1)]
    requests = [(*staff_client(app, phone), body(code, station["station"], pick))
                for phone, code, pick in zip(("13700000001", "13700000002"), codes, picks)]
    assert _race(app, requests) == [201, 409]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Redemption)) == 1
    assert db.session.scalar(select(func.sum(Redemption.points))) in (30, 50)


@pytest.mark.parametrize("attempt", range(3))
def test_one_code_submitted_twice_at_once(app, city, station, make_member, attempt):
    second = make_member(city["root"], phone="13700000002")
    db.session.add(StationStaff(station_id=station["station"].id, member_id=second.id))
    db.session.commit()
    grant_points(city["member"], 500)
    code = code_for(city["member"])
    raincoat = station["items"]["雨衣"]
    requests = [(*staff_client(app, phone), body(code, station["station"], (raincoat, 1)))
                for phone in ("13700000001", "13700000002")]
    assert _race(app, requests) == [201, 409]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Redemption)) == 1


def test_administrators_set_up_stations_items_and_staff(app, city, client, auth):
    auth.login(city["admin"].phone)
    token = csrf_from(client.get("/admin/stations").get_data(as_text=True))
    bad = client.post("/admin/stations", data={"csrf_token": token, "name": "驿站", "orgs": "CA NOPE"})
    assert bad.status_code == 400 and "NOPE" in bad.get_data(as_text=True)
    made = client.post("/admin/stations", data={"csrf_token": token, "name": "城南驿站", "address": "南路",
                                                "orgs": "CA-1，CA-2"})
    assert made.status_code == 302
    station_url = made.headers["Location"]
    station_id = int(station_url.rsplit("/", 1)[1])
    assert client.post(f"{station_url}/items", data={"csrf_token": token, "new-name": "雨衣", "new-price": "0",
                                                     "new-stock": "3"}).status_code == 400
    assert client.post(f"{station_url}/items", data={"csrf_token": token, "new-name": "雨衣", "new-price": "30",
                                                     "new-stock": "3"}).status_code == 302
    db.session.rollback()
    item = db.session.scalar(select(StationItem))
    assert client.post(f"{station_url}/items/{item.id}", data={
        "csrf_token": token, f"item{item.id}-name": "雨衣", f"item{item.id}-price": "25",
        f"item{item.id}-stock": "-1", f"item{item.id}-active": "y"}).status_code == 400
    assert client.post(f"{station_url}/items/{item.id}", data={
        "csrf_token": token, f"item{item.id}-name": "新雨衣", f"item{item.id}-price": "25",
        f"item{item.id}-stock": "9", f"item{item.id}-active": "y"}).status_code == 302
    assert client.post(f"{station_url}/staff", data={"csrf_token": token, "phone": "13900000000"}).status_code == 400
    assert client.post(f"{station_url}/staff", data={"csrf_token": token, "phone": "13800000002"}).status_code == 302
    assert client.post(f"{station_url}/staff", data={"csrf_token": token, "phone": "13800000002"}).status_code == 400
    page = client.get(station_url).get_data(as_text=True)
    assert "新雨衣" in page and "骑手小王" in page
    member_id = city["member"].id
    assert client.post(f"{station_url}/staff/{member_id}/remove", data={"csrf_token": token}).status_code == 302
    db.session.rollback()
    assert (item.name, item.price, item.stock) == ("新雨衣", 25, 9)
    assert db.session.get(StationStaff, (station_id, member_id)) is None
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"station_created", "station_item_added", "station_item_updated", "station_staff_added",
            "station_staff_removed"} <= actions
