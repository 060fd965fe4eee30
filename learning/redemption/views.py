"""Pages of 积分兑换: the member's points and code, the station's counter, the administrators'
station settings."""
from __future__ import annotations

import re
from datetime import date, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from learning.auth.operations import normalize_phone
from learning.extensions import db
from learning.invites.views import qr_data_uri
from learning.netutil import client_address
from learning.orgs.forms import ConfirmForm
from learning.orgs.models import Member
from learning.orgs.operations import Refused
from learning.orgs.roster import mask
from learning.orgs.views import require_admin
from learning.redemption import bp, exports, operations, queries
from learning.redemption.forms import CodeForm, ItemForm, StaffForm, StationForm
from learning.redemption.models import Station, StationItem, StationStaff
from learning.security import allow_features
from learning.stats.views import _disposition
from learning.timeutil import local_today, to_local, utcnow

HISTORY_PAGE = 20


def _page() -> int:
    raw = request.args.get("page", "1")
    if not re.fullmatch(r"[0-9]{1,6}", raw) or int(raw) < 1:
        abort(400)
    return int(raw)


@bp.route("/points")
@login_required
def points():
    """积分兑换: balance, the code to show at a station, what stations offer, history."""
    page = _page()
    lines, total = queries.history(current_user.id, page=page, per_page=HISTORY_PAGE)
    code = queries.live_code(current_user.id, utcnow(), min_left=timedelta(0))
    return render_template(
        "redemption/points.html", balance=queries.balance_of(current_user.id), code=code,
        qr=qr_data_uri(code.code) if code else None, stations=queries.stations_serving(current_user),
        offered=queries.offered_items, lines=lines, page=page, pages=max(1, -(-total // HISTORY_PAGE)),
        to_local=to_local, refresh=ConfirmForm(), operated=queries.stations_operated_by(current_user))


@bp.route("/points/code", methods=["POST"])
@login_required
def refresh_code():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    operations.new_code(current_user)
    return redirect(url_for("redemption.points"))


# --- the station's counter (staff) -----------------------------------------------------------

def _operated(station_id: int) -> Station:
    station = db.session.get(Station, station_id)
    if station is None:
        abort(404)
    if not queries.can_operate(current_user, station):
        abort(403)
    return station


def _day() -> date:
    raw = request.args.get("day")
    if not raw:
        return local_today()
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400)


@bp.route("/stations")
@login_required
def my_stations():
    stations = queries.stations_operated_by(current_user)
    if not stations:
        abort(403)
    if len(stations) == 1:
        return redirect(url_for("redemption.station", station_id=stations[0].id))
    return render_template("redemption/stations.html", stations=stations)


@bp.route("/stations/<int:station_id>")
@login_required
def station(station_id: int):
    station = _operated(station_id)
    day = _day()
    redemptions = queries.day_redemptions(station, day)
    return render_template("redemption/station.html", station=station, day=day, redemptions=redemptions,
                           total=sum(r.points for r in redemptions), mask=mask, to_local=to_local,
                           form=CodeForm(formdata=None))


@bp.route("/stations/<int:station_id>/export")
@login_required
def export(station_id: int):
    station = _operated(station_id)
    fmt = request.args.get("format", "xlsx")
    if fmt not in exports.FORMATS:
        abort(400)
    data, filename = exports.day_export(station, _day(), fmt, actor=current_user, address=client_address())
    return Response(data, mimetype=exports.FORMATS[fmt],
                    headers={"Content-Disposition": _disposition(filename), "Cache-Control": "no-store"})


def _picks(station: Station) -> list[operations.Pick]:
    picks = []
    for item in station.items:
        raw = (request.form.get(f"qty_{item.id}") or "0").strip()
        if not re.fullmatch(r"[0-9]{1,3}", raw):
            raise operations.RedemptionRefused(_("数量应为整数。"), 400)
        if int(raw):
            picks.append(operations.Pick(item.id, int(raw)))
    return picks


@bp.route("/stations/<int:station_id>/redeem", methods=["GET", "POST"])
@login_required
@allow_features("camera")  # the scanner reads the member's QR code (js/scan.js)
def redeem(station_id: int):
    """Type (or scan) the member's code, see who it is, pick items, confirm."""
    station = _operated(station_id)
    lookup = CodeForm(request.args) if request.method == "GET" else CodeForm(request.form)
    context = {"station": station, "form": lookup, "confirm": ConfirmForm(), "mask": mask,
               "items": queries.offered_items(station)}
    if request.method == "POST":
        if not ConfirmForm().validate_on_submit() or not lookup.validate():
            abort(400)
        try:
            redemption = operations.redeem(station, lookup.code.data, _picks(station), staff=current_user,
                                           address=client_address())
        except operations.RedemptionRefused as refused:
            return _refused(context, lookup, refused)
        flash(_("兑换成功：%(name)s 使用 %(points)s 积分。", name=redemption.member.name, points=redemption.points),
              "success")
        return redirect(url_for("redemption.station", station_id=station.id))
    if not request.args.get("code"):
        return render_template("redemption/redeem.html", **context)
    if not lookup.validate():
        return render_template("redemption/redeem.html", **context), 400
    try:
        _code, member = operations.preview(station, lookup.code.data)
    except operations.RedemptionRefused as refused:
        return _refused(context, lookup, refused)
    return render_template("redemption/redeem.html", member=member, balance=queries.balance_of(member.id),
                           **context)


def _refused(context: dict, lookup: CodeForm, refused: operations.RedemptionRefused):
    code, member = lookup.code.data, None
    if refused.status in (400, 409):
        try:  # a stock or balance problem: keep showing whose code it is
            _code, member = operations.preview(context["station"], code)
        except operations.RedemptionRefused:
            member = None
    extra = {"member": member, "balance": queries.balance_of(member.id)} if member else {}
    return render_template("redemption/redeem.html", refused=str(refused.message), **context, **extra), \
        refused.status


# --- administrators --------------------------------------------------------------------------

def _org_codes(form: StationForm) -> list | None:
    codes = list(dict.fromkeys(c for c in re.split(r"[\s,，、]+", form.orgs.data or "") if c))
    orgs, unknown = queries.orgs_by_codes(codes)
    if unknown:
        form.orgs.errors.append(_("没有这些组织编码：%(codes)s", codes="、".join(unknown)))
        return None
    return orgs


@bp.route("/admin/stations", methods=["GET", "POST"])
@login_required
def admin_index():
    require_admin()
    form = StationForm()
    if form.validate_on_submit():
        orgs = _org_codes(form)
        if orgs is not None:
            station = operations.create_station(name=form.name.data.strip(), address=(form.address.data or "").strip(),
                                                orgs=orgs, actor=current_user)
            flash(_("驿站已创建，请添加可兑换的物品。"), "success")
            return redirect(url_for("redemption.admin_station", station_id=station.id))
    stations = list(db.session.scalars(queries.all_stations()))
    return render_template("redemption/admin_index.html", form=form, stations=stations), \
        (400 if form.errors else 200)


def _station_or_404(station_id: int) -> Station:
    station = db.session.get(Station, station_id)
    if station is None:
        abort(404)
    return station


def _admin_page(station: Station, *, form: StationForm | None = None, item_form: ItemForm | None = None,
                staff_form: StaffForm | None = None, status: int = 200):
    if form is None:
        form = StationForm(formdata=None, obj=station)
        form.orgs.data = " ".join(o.code for o in station.orgs)
    item_forms = {item.id: ItemForm(formdata=None, obj=item, prefix=f"item{item.id}") for item in station.items}
    return render_template("redemption/admin_station.html", station=station, form=form,
                           item_form=item_form or ItemForm(formdata=None, prefix="new"), item_forms=item_forms,
                           staff_form=staff_form or StaffForm(formdata=None), staff=queries.staff_of(station),
                           mask=mask, remove=ConfirmForm()), status


@bp.route("/admin/stations/<int:station_id>", methods=["GET", "POST"])
@login_required
def admin_station(station_id: int):
    require_admin()
    station = _station_or_404(station_id)
    if request.method == "GET":
        return _admin_page(station)
    form = StationForm()
    if form.validate_on_submit():
        orgs = _org_codes(form)
        if orgs is not None:
            operations.update_station(station, name=form.name.data.strip(), address=(form.address.data or "").strip(),
                                      orgs=orgs, active=form.active.data, actor=current_user)
            flash(_("已保存。"), "success")
            return redirect(url_for("redemption.admin_station", station_id=station.id))
    return _admin_page(station, form=form, status=400)


@bp.route("/admin/stations/<int:station_id>/items", methods=["POST"])
@login_required
def admin_item_add(station_id: int):
    require_admin()
    station = _station_or_404(station_id)
    form = ItemForm(prefix="new")
    if not form.validate_on_submit():
        return _admin_page(station, item_form=form, status=400)
    operations.add_item(station, name=form.name.data.strip(), price=form.price.data, stock=form.stock.data,
                        actor=current_user)
    flash(_("物品已添加。"), "success")
    return redirect(url_for("redemption.admin_station", station_id=station.id))


@bp.route("/admin/stations/<int:station_id>/items/<int:item_id>", methods=["POST"])
@login_required
def admin_item(station_id: int, item_id: int):
    require_admin()
    station = _station_or_404(station_id)
    item = db.session.get(StationItem, item_id)
    if item is None or item.station_id != station.id:
        abort(404)
    form = ItemForm(prefix=f"item{item.id}")
    if not form.validate_on_submit():
        flash(" ".join(str(e) for errors in form.errors.values() for e in errors), "warn")
        return _admin_page(station, status=400)
    operations.update_item(item, name=form.name.data.strip(), price=form.price.data, stock=form.stock.data,
                           active=form.active.data, actor=current_user)
    flash(_("已保存。"), "success")
    return redirect(url_for("redemption.admin_station", station_id=station.id))


@bp.route("/admin/stations/<int:station_id>/staff", methods=["POST"])
@login_required
def admin_staff_add(station_id: int):
    require_admin()
    station = _station_or_404(station_id)
    form = StaffForm()
    if form.validate_on_submit():
        member = db.session.scalar(select(Member).where(Member.phone == normalize_phone(form.phone.data)))
        if member is None or not member.active:
            form.phone.errors.append(_("没有这个手机号的党员。"))
        else:
            try:
                operations.add_staff(station, member, actor=current_user)
            except Refused as refused:
                form.phone.errors.append(str(refused.message))
            else:
                flash(_("已添加工作人员。"), "success")
                return redirect(url_for("redemption.admin_station", station_id=station.id))
    return _admin_page(station, staff_form=form, status=400)


@bp.route("/admin/stations/<int:station_id>/staff/<int:member_id>/remove", methods=["POST"])
@login_required
def admin_staff_remove(station_id: int, member_id: int):
    require_admin()
    staff = db.session.get(StationStaff, (station_id, member_id))
    if staff is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    operations.remove_staff(staff, actor=current_user)
    flash(_("已移除工作人员。"), "success")
    return redirect(url_for("redemption.admin_station", station_id=station_id))
