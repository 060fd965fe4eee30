"""The demo academy: a realistic small city, its members and a year of study history.

Deterministic (fixed seed) and idempotent: when the city's root node already exists nothing
is added, so running `hongfan demo` twice leaves the same data.
"""
from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import insert, select

import content
from content import load_package
from learning.auth.passwords import hash_password
from learning.catalog.models import Course, CourseStatus
from learning.catalog.operations import import_package
from learning.community.demo import seed_forum
from learning.extensions import db
from learning.orgs.models import PARTY_KINDS, Member, MemberKind, Organization, OrgKind, Role
from learning.orgs.operations import create_member, create_org, grant_role
from learning.assignments.operations import assign
from learning.study.models import StudyEvent
from learning.study.operations import Event, MemberStudy
from learning.timeutil import academy_zone, from_aware, utcnow
from recommender.synthetic import simulate_study

LIBRARY = Path(content.__file__).resolve().parent / "library"  # inside the package: wheels ship it too
DEMO_PASSWORD = "hongfan"  # noqa: S105 -- the demo city's published password (README), demo databases only
ROOT_CODE = "HF"
ADMIN_PHONE, SECRETARY_PHONE, MEMBER_PHONE = "13800000000", "13800000001", "13800000002"
STATION_PHONE = "13800000009"
DEMO_BRANCH = "HF-WM-01"

# (code, name, industry, occupations with weights, branches, general branch with its branches)
COMMITTEES = [
    ("HF-KD", "快递行业党委", "快递", {"快递员": 8, "平台企业员工": 1, "其他": 1},
     [("HF-KD-01", "城东快递网点联合党支部"), ("HF-KD-02", "城西快递驿站联合党支部"), ("HF-KD-03", "快递小哥流动党支部")],
     ("HF-KD-Z", "物流园区党总支", [("HF-KD-Z1", "物流园区第一党支部"), ("HF-KD-Z2", "物流园区第二党支部")])),
    ("HF-WM", "外卖配送行业党委", "外卖", {"外卖骑手": 9, "平台企业员工": 1},
     [("HF-WM-01", "骑手之家联合党支部"), ("HF-WM-02", "城南配送站党支部"), ("HF-WM-03", "北区众包骑手党支部")], None),
    ("HF-ZB", "直播电商行业党委", "直播电商", {"主播": 5, "平台企业员工": 4, "其他": 1},
     [("HF-ZB-01", "直播基地党支部"), ("HF-ZB-02", "电商产业园党支部"), ("HF-ZB-03", "网络主播联合党支部")], None),
    ("HF-YS", "道路运输行业党委", "道路运输", {"货车司机": 5, "网约车司机": 5},
     [("HF-YS-01", "货运枢纽党支部"), ("HF-YS-02", "网约车司机联合党支部"), ("HF-YS-03", "城际货运车队党支部")], None),
]

SURNAMES = ("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶"
            "余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文")
GIVEN = ("伟 芳 娜 敏 静 丽 强 磊 军 洋 勇 艳 杰 娟 涛 明 超 霞 平 刚 辉 鹏 华 飞 鑫 波 斌 宇 浩 凯 健 俊 帆 "
         "建华 志强 海燕 晓东 文博 子涵 浩然 晓明 春梅 立新 国庆 红霞 建国 玉兰 志刚 永强 丽娟 晓燕 海涛 俊杰 "
         "雪梅 家豪 思远 嘉怡 梓轩 振华 卫东 秀兰 德明 少华").split()

# Branches whose members mostly share one job, unlike their committee's mix.
BRANCH_OCCUPATIONS = {
    "HF-YS-01": {"货车司机": 8, "网约车司机": 1, "其他": 1},
    "HF-YS-02": {"网约车司机": 8, "货车司机": 1, "其他": 1},
    "HF-YS-03": {"货车司机": 9, "其他": 1},
    "HF-ZB-03": {"主播": 8, "平台企业员工": 2},
}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    phone: str
    password: str


LOGINS = (
    DemoLogin("学院管理员 administrator", ADMIN_PHONE, DEMO_PASSWORD),
    DemoLogin("支部书记 branch secretary", SECRETARY_PHONE, DEMO_PASSWORD),
    DemoLogin("党员 member", MEMBER_PHONE, DEMO_PASSWORD),
    DemoLogin("驿站工作人员 station staff", STATION_PHONE, DEMO_PASSWORD),
)


def load_library(store_root: Path, library: Path = LIBRARY) -> list[Course]:
    """Import every starter course whose version is not in the database yet, published."""
    imported = []
    for folder in sorted(p for p in library.iterdir() if (p / "course.toml").is_file()):
        pkg = load_package(folder)
        course = db.session.scalar(select(Course).where(Course.slug == pkg.id))
        if course is not None and course.version == pkg.version:
            continue
        imported.append(import_package(pkg, store_root=store_root, actor=None, publish=True))
    return imported


def build_demo(today: date, seed: int = 20260701) -> bool:
    """Create the demo city once. Returns False when it already existed."""
    if db.session.scalar(select(Organization.id).where(Organization.code == ROOT_CODE)) is not None:
        return False
    rng = random.Random(seed)  # noqa: S311 -- repeatable demo data, nothing secret is drawn from it
    password_hash = hash_password(DEMO_PASSWORD)  # one hash for every demo account: demo data only
    root = create_org(code=ROOT_CODE, name="红帆市新兴领域党建工作委员会", kind=OrgKind.COMMITTEE,
                      parent=None, region="红帆市")
    phones = _PhoneBook(rng)
    names = _NameBook(rng)
    since = today - timedelta(days=400)

    def person(org: Organization, occupations: dict[str, int], phone: str | None = None,
               learner: bool = False) -> Member:
        """A Party member; with `learner`, sometimes a worker who is not (yet) one."""
        occupation = rng.choices(list(occupations), weights=list(occupations.values()))[0]
        kind = _kind(rng.random(), learner)
        joined = date(today.year - rng.randint(1, 25), rng.randint(1, 12), rng.randint(1, 28))
        return create_member(
            name=names.next(), phone=phone or phones.next(), home_org=org, password_hash=password_hash,
            birth_year=today.year - _age(rng), occupation=occupation, member_kind=kind,
            joined_at=joined if kind in PARTY_KINDS else None, since=since,
        )

    admin = person(root, {"平台企业员工": 1}, phone=ADMIN_PHONE)
    grant_role(member=admin, org=root, role=Role.ACADEMY_ADMIN, actor=None)
    members: list[Member] = []
    for code, name, industry, occupations, branches, general in COMMITTEES:
        committee = create_org(code=code, name=name, kind=OrgKind.COMMITTEE, parent=root,
                               industry=industry, region="红帆市")
        grant_role(member=person(committee, occupations), org=committee, role=Role.SECRETARY, actor=None)
        leaves = [(committee, branches)]
        if general:
            gcode, gname, gbranches = general
            leaves.append((create_org(code=gcode, name=gname, kind=OrgKind.GENERAL_BRANCH,
                                      parent=committee, industry=industry, region="红帆市"), gbranches))
        for parent, branch_list in leaves:
            for bcode, bname in branch_list:
                branch = create_org(code=bcode, name=bname, kind=OrgKind.BRANCH, parent=parent,
                                    industry=industry, region="红帆市")
                demo = bcode == DEMO_BRANCH
                jobs = BRANCH_OCCUPATIONS.get(bcode, occupations)
                secretary = person(branch, jobs, phone=SECRETARY_PHONE if demo else None)
                grant_role(member=secretary, org=branch, role=Role.SECRETARY, actor=None)
                members.append(secretary)
                if demo:
                    members.append(person(branch, {"外卖骑手": 1}, phone=MEMBER_PHONE))
                members.extend(person(branch, jobs, learner=True) for _ in range(rng.randint(14, 20)))
    db.session.flush()
    _history(rng, members, today, seed)
    _branch_life(rng, today)
    _station(root, admin, staff=person(root, {"其他": 1}, phone=STATION_PHONE))
    by_phone = {m.phone: m for m in members}
    seed_forum(by_phone[MEMBER_PHONE], by_phone[SECRETARY_PHONE],
               from_aware(datetime.combine(today, time(0), tzinfo=academy_zone())))
    return True


def _station(root: Organization, admin: Member, staff: Member) -> None:
    """One 驿站 serving the whole city, where riders and couriers redeem their 积分."""
    from learning.redemption import operations as redemption

    station = redemption.create_station(name="城南骑手驿站", address="红帆市城南路 88 号（城南配送站旁）",
                                        orgs=[root], actor=admin)
    for name, price, stock in (("雨衣", 30, 20), ("充电宝", 60, 10), ("头盔", 100, 5)):
        redemption.add_item(station, name=name, price=price, stock=stock, actor=admin)
    redemption.add_staff(station, staff, actor=admin)


def _branch_life(rng: random.Random, today: date) -> None:
    """The demo branch's committee requires a course, and the branch held a 主题党日 ten days
    ago: the secretary's dashboard then shows an assignment's progress and confirmed study."""
    from learning.meetings.operations import record_session

    branch = db.session.scalar(select(Organization).where(Organization.code == DEMO_BRANCH))
    course = db.session.scalar(select(Course).where(Course.status == CourseStatus.PUBLISHED,
                                                    Course.category == "安全").order_by(Course.id))
    if branch is None or course is None:
        return
    assign(actor=None, org=branch.parent, course=course, due_on=today + timedelta(days=30))
    roster = list(db.session.scalars(select(Member).where(Member.home_org_id == branch.id).order_by(Member.id)))
    held = today - timedelta(days=10)
    record_session(actor=None, org=branch, title="主题党日：学习新就业群体权益保障政策", kind="party_day",
                   held_on=held, hours=2.0, category="权益保障",
                   attendees=rng.sample(roster, k=min(len(roster), 14)))
    _reflections(branch, today)


# Learner kinds by a uniform draw: most are full members; some workers the academy trains are
# not Party members yet (群众, 入党积极分子, 发展对象).
_KIND_SHARES = ((0.08, MemberKind.PROBATIONARY), (0.15, MemberKind.MASSES), (0.19, MemberKind.ACTIVIST),
                (0.21, MemberKind.CANDIDATE))


def _kind(draw: float, learner: bool) -> str:
    for upper, kind in _KIND_SHARES:
        if draw < upper and (learner or kind in PARTY_KINDS):
            return kind
    return MemberKind.FULL


def _reflections(branch: Organization, today: date) -> None:
    """Two members of the demo branch wrote 学习心得 on a finished course: the secretary
    approved and featured one; the other waits in the review queue."""
    from learning.reflections.operations import review, set_featured, submit
    from learning.study.models import CourseCompletion

    secretary = db.session.scalar(select(Member).where(Member.phone == SECRETARY_PHONE))
    done = db.session.execute(
        select(Member, Course).join(CourseCompletion, CourseCompletion.member_id == Member.id)
        .join(Course, Course.id == CourseCompletion.course_id)
        .where(Member.home_org_id == branch.id, Member.phone.not_in([SECRETARY_PHONE, MEMBER_PHONE]))
        .order_by(Member.id, Course.id)).all()
    writers: dict[int, tuple[Member, Course]] = {}
    for member, course in done:
        writers.setdefault(member.id, (member, course))
    for index, (member, course) in enumerate(list(writers.values())[:2]):
        text = (f"学完《{course.title}》，我对照自己每天送单、跑车的实际想了想：课程里讲的要点都用得上。"
                "以后我会把学到的做法用在工作里，也讲给站点的同事听，遇到困难先找支部和工会。")
        reflection = submit(member, course, text)
        if index == 0 and secretary is not None:
            review(secretary, reflection, approve=True, comment="写得实在，结合了工作。")
            set_featured(secretary, reflection, True)


def _age(rng: random.Random) -> int:
    # New employment groups are young: most members 22–45, a tail up to 60.
    return max(20, min(60, int(rng.gauss(34, 8))))


class _PhoneBook:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used = {ADMIN_PHONE, SECRETARY_PHONE, MEMBER_PHONE}

    def next(self) -> str:
        while True:
            phone = f"1{self.rng.choice('3456789')}{self.rng.randrange(10**9):09d}"
            if phone not in self.used and not phone.startswith("1380000000"):
                self.used.add(phone)
                return phone


class _NameBook:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def next(self) -> str:
        for _ in range(50):
            name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
            if name not in self.used:
                break
        self.used.add(name)
        return name


def _history(rng: random.Random, members: list[Member], today: date, seed: int) -> None:
    """A year of study from the recommender's generator (recommender/synthetic.py), mapped onto
    the starter courses and the city: each occupation's interests and age effects, hidden tastes,
    courses that follow their prerequisites, branches that assign courses (stored as real
    assignments, most members finishing them shortly before the due date), 七一 and the year-end
    rush, members who join late or drop out. Every lesson goes through the study rules (events,
    counters, 学时, points) as the phone's would; some members stop part-way through their
    latest course, and the demo member is one text lesson short of finishing theirs."""
    courses = list(db.session.scalars(select(Course).where(Course.status == CourseStatus.PUBLISHED)
                                      .order_by(Course.slug)))
    if not courses or not members:
        return
    branches = list(db.session.scalars(select(Organization).where(Organization.kind == OrgKind.BRANCH)
                                       .order_by(Organization.code)))
    people = pd.DataFrame({"member_id": [m.id for m in members],
                           "age": [today.year - m.birth_year for m in members],
                           "occupation": [m.occupation for m in members],
                           "branch_id": [m.home_org.code for m in members]})
    catalogue = pd.DataFrame({"course_id": [c.slug for c in courses], "category": [c.category for c in courses],
                              "audience": [list(c.audience or []) for c in courses],
                              "prerequisites": [list(c.prerequisites or []) for c in courses]})
    industries = pd.DataFrame({"branch_id": [b.code for b in branches],
                               "industry": [_main_occupation(b.code) for b in branches]})
    start = datetime.combine(today - timedelta(days=365), time(0))
    end = datetime.combine(today - timedelta(days=1), time(23, 59, 59))
    study = simulate_study(people, catalogue, industries, n_completions=int(len(members) * COURSES_PER_MEMBER),
                           start=start, end=end, random_state=seed)

    by_code = {b.code: b for b in branches}
    by_slug = {c.slug: c for c in courses}
    for row in study.assignments.itertuples(index=False):
        made = assign(actor=None, org=by_code[row.branch_id], course=by_slug[row.course_id],
                      due_on=pd.Timestamp(row.due_on).date())
        made.created_at = from_aware(datetime.combine(pd.Timestamp(row.assigned_on).date(), time(9),
                                                      tzinfo=academy_zone()))
    done: dict[int, list[tuple[Course, datetime]]] = {}
    for member_id, slug, at in study.interactions.itertuples(index=False):
        done.setdefault(int(member_id), []).append((by_slug[slug], pd.Timestamp(at).to_pydatetime()))
    zone = academy_zone()
    for member in members:
        taken = done.get(member.id, [])
        if not taken:
            continue
        lessons_of: list[tuple[Course, list, datetime]] = []
        for index, (course, at) in enumerate(taken):
            lessons = list(course.required_lessons)
            last = index == len(taken) - 1
            if last and member.phone == MEMBER_PHONE:
                # The demo member stopped one text lesson short of finishing: the quick tour
                # (open it, finish it, see the 学时 arrive) works on their first login.
                texts = [lesson for lesson in lessons if lesson.kind == "text"]
                lessons = [lesson for lesson in lessons if lesson is not texts[-1]] if texts else lessons[:-1]
                at = datetime.combine(today - timedelta(days=2), time(20, 30))
            elif last and len(taken) > 1 and rng.random() < 0.2:
                lessons = lessons[:rng.randint(1, max(1, len(lessons) - 1))]
            lessons_of.append((course, lessons, at))
        _study(rng, member, lessons_of, zone)


COURSES_PER_MEMBER = 6.0  # completions a year for the average member (the starter library has 16 courses)


def _main_occupation(branch_code: str) -> str | None:
    """The occupation most of a branch's members have: its industry for the generator."""
    weights = _occupations_of(branch_code)
    return max(weights, key=weights.get) if weights else None


def _occupations_of(branch_code: str) -> dict[str, int]:
    if branch_code in BRANCH_OCCUPATIONS:
        return BRANCH_OCCUPATIONS[branch_code]
    for code, _name, _industry, occupations, *_rest in COMMITTEES:
        if branch_code.startswith(code + "-"):
            return occupations
    return {}


def _study(rng: random.Random, member: Member, courses: list[tuple[Course, list, datetime]], zone) -> None:
    """Study the lessons of each course, spread over the days before the moment it was finished,
    as one batch of study events under the same rules as the phone's."""
    events: list[Event] = []
    for _course, lessons, finished in courses:
        n = len(lessons)
        for number, lesson in enumerate(lessons):
            days_before = (n - 1 - number) // 2
            moment = finished - timedelta(days=days_before, minutes=7 * (n - 1 - number))
            at = from_aware(moment.replace(tzinfo=zone))
            spent = lesson.min_dwell_s + rng.randint(0, max(lesson.duration_s, 60))
            if lesson.kind == "quiz":
                answers = tuple(tuple(sorted(q["answer"])) for q in lesson.questions)
                events.append(Event(id=uuid.UUID(int=rng.getrandbits(128)), lesson=lesson, kind="answer",
                                    occurred_at=at, time_spent_s=spent, answers=answers))
            else:
                kind = "complete"
                events.append(Event(id=uuid.UUID(int=rng.getrandbits(128)), lesson=lesson, kind=kind,
                                    occurred_at=at, position=1.0, progress=1.0, time_spent_s=spent))
    if not events:
        return
    session = MemberStudy(member)
    now = utcnow()
    db.session.execute(insert(StudyEvent), [session.row_values(e) | {"received_at": now} for e in events])
    session.preload(list({e.lesson.id: e.lesson for e in events}.values()), [e.occurred_at for e in events])
    for event in sorted(events, key=lambda e: e.occurred_at):
        session.apply(event)
