"""One parametrized access matrix for every route: anonymous, member, secretary of the branch,
secretary of a sibling branch, secretary of the parent committee and administrator.

Every route the app registers must appear here (test_every_route_is_in_the_matrix), so each
later route joins the matrix.
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from helpers import AuthActions, csrf_from, finish_course
from learning.catalog.models import CourseStatus
from learning.invites.operations import create_invitation, request_activity
from learning.orgs.operations import request_transfer
from learning.reflections.operations import submit as submit_reflection
from learning.timeutil import local_today

ROLES = ("anonymous", "member", "secretary", "sibling", "committee", "admin")
PHONES = {"member": "13800000002", "secretary": "13800000001", "sibling": "13800000004",
          "committee": "13800000003", "admin": "13800000000"}
LOGIN = "login"  # redirected to the login page

# endpoint, method, url template, expected status per role (in ROLES order)
MATRIX = [
    ("auth.login", "GET", "/login", (200, 200, 200, 200, 200, 200)),
    ("auth.login", "POST", "/login", (400, 400, 400, 400, 400, 400)),  # no phone, no password
    ("auth.logout", "POST", "/logout", (LOGIN, 302, 302, 302, 302, 302)),
    ("auth.password", "GET", "/account/password", (LOGIN, 200, 200, 200, 200, 200)),
    ("auth.password", "POST", "/account/password", (LOGIN, 400, 400, 400, 400, 400)),  # empty form
    ("study.home", "GET", "/", (LOGIN, 200, 200, 200, 200, 200)),
    ("study.complete", "POST", "/lessons/{text_lesson}/complete", (LOGIN, 302, 302, 302, 302, 302)),
    ("study.complete", "POST", "/lessons/{draft_lesson}/complete", (LOGIN, 404, 404, 404, 404, 302)),
    ("study.quiz", "POST", "/lessons/{quiz_lesson}/quiz", (LOGIN, 200, 200, 200, 200, 200)),
    ("catalog.index", "GET", "/courses", (LOGIN, 200, 200, 200, 200, 200)),
    ("catalog.course", "GET", "/courses/{course}", (LOGIN, 200, 200, 200, 200, 200)),
    ("catalog.course", "GET", "/courses/{draft}", (LOGIN, 404, 404, 404, 404, 200)),
    ("catalog.lesson", "GET", "/courses/{course}/lessons/01-text", (LOGIN, 200, 200, 200, 200, 200)),
    ("catalog.lesson", "GET", "/courses/{draft}/lessons/01-text", (LOGIN, 404, 404, 404, 404, 200)),
    ("catalog.media", "GET", "/courses/{course}/media/cover.png", (LOGIN, 200, 200, 200, 200, 200)),
    ("catalog.media", "GET", "/courses/{draft}/media/cover.png", (LOGIN, 404, 404, 404, 404, 200)),
    ("orgs.tree", "GET", "/orgs", (LOGIN, 403, 302, 302, 200, 200)),
    ("orgs.detail", "GET", "/orgs/CA-1", (LOGIN, 403, 200, 403, 200, 200)),
    ("orgs.detail", "GET", "/orgs/CA-2", (LOGIN, 403, 403, 200, 200, 200)),
    ("orgs.detail", "GET", "/orgs/CA", (LOGIN, 403, 403, 403, 200, 200)),
    ("orgs.detail", "GET", "/orgs/ROOT", (LOGIN, 403, 403, 403, 403, 200)),
    ("catalog.admin_index", "GET", "/admin/courses", (LOGIN, 403, 403, 403, 403, 200)),
    ("catalog.admin_upload", "POST", "/admin/courses/upload", (LOGIN, 403, 403, 403, 403, 400)),
    ("catalog.admin_status", "POST", "/admin/courses/{course}/status", (LOGIN, 403, 403, 403, 403, 400)),
    ("catalog.admin_edit", "GET", "/admin/courses/{course}/edit", (LOGIN, 403, 403, 403, 403, 200)),
    ("catalog.admin_edit", "POST", "/admin/courses/{course}/edit", (LOGIN, 403, 403, 403, 403, 400)),
    # the browser editor; rows run in order, so the administrator's draft exists from "start" on
    ("catalog.admin_new", "GET", "/admin/courses/new", (LOGIN, 403, 403, 403, 403, 200)),
    ("catalog.admin_new", "POST", "/admin/courses/new", (LOGIN, 403, 403, 403, 403, 400)),
    ("catalog.admin_draft", "GET", "/admin/courses/{course}/draft", (LOGIN, 403, 403, 403, 403, 404)),
    ("catalog.admin_draft_start", "POST", "/admin/courses/{course}/draft/start", (LOGIN, 403, 403, 403, 403, 302)),
    ("catalog.admin_draft", "GET", "/admin/courses/{course}/draft", (LOGIN, 403, 403, 403, 403, 200)),
    ("catalog.admin_draft", "POST", "/admin/courses/{course}/draft", (LOGIN, 403, 403, 403, 403, 400)),
    ("catalog.admin_draft_lesson", "GET", "/admin/courses/{course}/draft/new/quiz", (LOGIN, 403, 403, 403, 403, 200)),
    ("catalog.admin_draft_lesson", "POST", "/admin/courses/{course}/draft/new/text", (LOGIN, 403, 403, 403, 403, 400)),
    ("catalog.admin_draft_lesson", "GET", "/admin/courses/{course}/draft/lessons/none.md", (LOGIN, 403, 403, 403, 403, 404)),
    ("catalog.admin_draft_lesson", "POST", "/admin/courses/{course}/draft/lessons/none.md", (LOGIN, 403, 403, 403, 403, 404)),
    ("catalog.admin_draft_order", "POST", "/admin/courses/{course}/draft/lessons/none.md/order", (LOGIN, 403, 403, 403, 403, 400)),
    ("catalog.admin_draft_media", "GET", "/admin/courses/{course}/draft/media/cover.png", (LOGIN, 403, 403, 403, 403, 200)),
    ("catalog.admin_draft_import", "POST", "/admin/courses/{course}/draft/import", (LOGIN, 403, 403, 403, 403, 400)),
    ("catalog.admin_draft_discard", "POST", "/admin/courses/{course}/draft/discard", (LOGIN, 403, 403, 403, 403, 302)),
    ("catalog.admin_draft", "GET", "/admin/courses/{course}/draft", (LOGIN, 403, 403, 403, 403, 404)),
    ("api.openapi", "GET", "/api/v1/openapi.json", (200, 200, 200, 200, 200, 200)),
    # a form body is not a JSON list of events: 400 once the caller is known
    ("api.post_events", "POST", "/api/v1/events", (LOGIN, 400, 400, 400, 400, 400)),
    ("api.create_token", "POST", "/api/v1/tokens", (400, 400, 400, 400, 400, 400)),  # a form, not JSON
    ("api.list_tokens", "GET", "/api/v1/tokens", (LOGIN, 200, 200, 200, 200, 200)),
    ("api.revoke", "DELETE", "/api/v1/tokens/{member_token}", (LOGIN, 204, 404, 404, 404, 404)),
    ("api.me", "GET", "/api/v1/me", (LOGIN, 200, 200, 200, 200, 200)),
    ("api.courses", "GET", "/api/v1/courses", (LOGIN, 200, 200, 200, 200, 200)),
    ("api.course", "GET", "/api/v1/courses/{course}", (LOGIN, 200, 200, 200, 200, 200)),
    ("api.course", "GET", "/api/v1/courses/{draft}", (LOGIN, 404, 404, 404, 404, 200)),
    ("api.progress", "GET", "/api/v1/progress", (LOGIN, 200, 200, 200, 200, 200)),
    ("study.record", "GET", "/record", (LOGIN, 200, 200, 200, 200, 200)),
    ("study.admin_targets", "GET", "/admin/targets", (LOGIN, 403, 403, 403, 403, 200)),
    ("study.admin_targets", "POST", "/admin/targets", (LOGIN, 403, 403, 403, 403, 400)),
    ("tokens.index", "GET", "/account/tokens", (LOGIN, 200, 200, 200, 200, 200)),
    ("tokens.revoke", "POST", "/account/tokens/{member_token2}/revoke", (LOGIN, 302, 404, 404, 404, 404)),
    ("plans.dismiss", "POST", "/plan/{course}/dismiss", (LOGIN, 302, 302, 302, 302, 302)),
    ("plans.dismiss", "POST", "/plan/{draft}/dismiss", (LOGIN, 404, 404, 404, 404, 302)),
    ("api.plan", "GET", "/api/v1/plan", (LOGIN, 200, 200, 200, 200, 200)),
    # the matrix posts a form, not the JSON body the API wants
    ("api.plan_dismiss", "POST", "/api/v1/plan/dismissals", (LOGIN, 400, 400, 400, 400, 400)),
    ("stats.dashboard", "GET", "/orgs/CA-1/dashboard", (LOGIN, 403, 200, 403, 200, 200)),
    ("stats.dashboard", "GET", "/orgs/CA-2/dashboard?year=2024&from=3&to=5", (LOGIN, 403, 403, 200, 200, 200)),
    ("stats.dashboard", "GET", "/orgs/CA/dashboard", (LOGIN, 403, 403, 403, 200, 200)),
    ("stats.dashboard", "GET", "/orgs/ROOT/dashboard", (LOGIN, 403, 403, 403, 403, 200)),
    ("stats.dashboard", "GET", "/orgs/NOPE/dashboard", (LOGIN, 404, 404, 404, 404, 404)),
    ("stats.dashboard", "GET", "/orgs/CA-1/dashboard?from=9&to=2", (LOGIN, 403, 400, 403, 400, 400)),
    ("stats.export", "GET", "/orgs/CA-1/dashboard/export?table=members&format=xlsx", (LOGIN, 403, 200, 403, 200, 200)),
    ("stats.export", "GET", "/orgs/CA-2/dashboard/export?table=behind&format=csv", (LOGIN, 403, 403, 200, 200, 200)),
    ("stats.export", "GET", "/orgs/CA/dashboard/export?table=children&format=csv", (LOGIN, 403, 403, 403, 200, 200)),
    ("stats.export", "GET", "/orgs/ROOT/dashboard/export?table=trend&format=xlsx", (LOGIN, 403, 403, 403, 403, 200)),
    ("stats.export", "GET", "/orgs/CA-1/dashboard/export?table=nope&format=xlsx", (LOGIN, 403, 400, 403, 400, 400)),
    ("stats.member_record", "GET", "/members/{member_id}/record", (LOGIN, 200, 200, 403, 200, 200)),
    ("stats.member_record", "GET", "/members/{other_id}/record", (LOGIN, 403, 403, 200, 200, 200)),
    ("stats.member_record", "GET", "/members/{committee_id}/record", (LOGIN, 403, 403, 403, 200, 200)),
    ("assignments.index", "GET", "/orgs/CA-1/assignments", (LOGIN, 403, 200, 403, 200, 200)),
    ("assignments.index", "POST", "/orgs/CA-1/assignments", (LOGIN, 403, 400, 403, 400, 400)),
    ("assignments.withdraw", "POST", "/assignments/{assignment}/withdraw", (LOGIN, 403, 302, 403, 302, 302)),
    ("assignments.withdraw", "POST", "/assignments/{parent_assignment}/withdraw", (LOGIN, 403, 403, 403, 302, 302)),
    ("meetings.index", "GET", "/orgs/CA-1/meetings", (LOGIN, 403, 200, 403, 200, 200)),
    ("meetings.index", "POST", "/orgs/CA-2/meetings", (LOGIN, 403, 403, 400, 400, 400)),
    ("meetings.detail", "GET", "/meetings/{meeting}", (LOGIN, 403, 200, 403, 200, 200)),
    ("api.org_stats", "GET", "/api/v1/orgs/CA-1/stats?year=2026", (LOGIN, 403, 200, 403, 200, 200)),
    ("api.org_stats", "GET", "/api/v1/orgs/CA/stats", (LOGIN, 403, 403, 403, 200, 200)),
    ("api.org_stats", "GET", "/api/v1/orgs/NOPE/stats", (LOGIN, 404, 404, 404, 404, 404)),
    # the forum (issue 11): boards and course discussions; moderation by the author's secretaries.
    # Listed before issue 7's rows, which approve the sibling member's activity membership in CA-1.
    ("community.index", "GET", "/forum", (LOGIN, 200, 200, 200, 200, 200)),
    ("community.course", "GET", "/courses/{course}/discussion", (LOGIN, 302, 302, 302, 302, 302)),
    ("community.course", "GET", "/courses/{draft}/discussion", (LOGIN, 404, 404, 404, 404, 302)),
    ("community.discussion", "GET", "/forum/{board}", (LOGIN, 200, 200, 200, 200, 200)),
    ("community.discussion", "GET", "/forum/{draft_discussion}", (LOGIN, 404, 404, 404, 404, 200)),
    ("community.discussion", "POST", "/forum/{board}", (LOGIN, 400, 400, 400, 400, 400)),  # no body
    ("community.thread", "GET", "/forum/threads/{forum_post}", (LOGIN, 200, 200, 200, 200, 200)),
    ("community.thread", "POST", "/forum/threads/{forum_post}", (LOGIN, 400, 400, 400, 400, 400)),  # no body
    # hidden: gone for members (its author too) and the sibling; kept for the author's secretaries
    ("community.thread", "GET", "/forum/threads/{hidden_post}", (LOGIN, 404, 200, 404, 200, 200)),
    ("community.like", "POST", "/forum/posts/{forum_post}/like", (LOGIN, 302, 302, 302, 302, 302)),
    ("community.like", "POST", "/forum/posts/{hidden_post}/like", (LOGIN, 404, 409, 404, 409, 409)),
    ("community.report", "POST", "/forum/posts/{other_post}/report", (LOGIN, 303, 303, 303, 303, 303)),  # no reason
    ("community.moderation", "GET", "/forum/posts/{forum_post}/moderation", (LOGIN, 403, 200, 403, 200, 200)),
    ("community.moderation", "GET", "/forum/posts/{other_post}/moderation", (LOGIN, 403, 403, 200, 200, 200)),
    ("community.moderation", "GET", "/forum/posts/{hidden_post}/moderation", (LOGIN, 404, 200, 404, 200, 200)),
    ("community.moderation", "POST", "/forum/posts/{forum_post}/moderation", (LOGIN, 403, 400, 403, 400, 400)),
    ("community.moderation", "POST", "/forum/posts/{other_post}/moderation", (LOGIN, 403, 403, 400, 400, 400)),
    ("community.review", "GET", "/forum/review", (LOGIN, 403, 200, 200, 200, 200)),
    ("community.notifications", "GET", "/forum/notifications", (LOGIN, 200, 200, 200, 200, 200)),
    ("community.read_all", "POST", "/forum/notifications/read", (LOGIN, 302, 302, 302, 302, 302)),
    ("community.open_notification", "POST", "/forum/notifications/{notification}", (LOGIN, 302, 404, 404, 404, 404)),
    ("community.words", "GET", "/admin/forum/words", (LOGIN, 403, 403, 403, 403, 200)),
    ("community.words", "POST", "/admin/forum/words", (LOGIN, 403, 403, 403, 403, 302)),
    ("api.discussions", "GET", "/api/v1/discussions", (LOGIN, 200, 200, 200, 200, 200)),
    ("api.discussion_posts", "GET", "/api/v1/discussions/{board}/posts", (LOGIN, 200, 200, 200, 200, 200)),
    ("api.discussion_posts", "GET", "/api/v1/discussions/{draft_discussion}/posts", (LOGIN, 404, 404, 404, 404, 200)),
    # a form, not JSON: 400 once the caller may read the discussion
    ("api.create_discussion_post", "POST", "/api/v1/discussions/{board}/posts", (LOGIN, 400, 400, 400, 400, 400)),
    ("api.create_discussion_post", "POST", "/api/v1/discussions/{draft_discussion}/posts", (LOGIN, 404, 404, 404, 404, 400)),
    # organizations, rosters, invitations, transfers, roles, audit, personal data (issue 7)
    ("auth.activate", "GET", "/activate", (200, 200, 200, 200, 200, 200)),
    ("auth.activate", "POST", "/activate", (400, 400, 400, 400, 400, 400)),  # no code
    ("privacy.notice", "GET", "/privacy", (200, 200, 200, 200, 200, 200)),
    ("privacy.my_data", "GET", "/account/data", (LOGIN, 200, 200, 200, 200, 200)),
    ("privacy.my_data_download", "POST", "/account/data.json", (LOGIN, 200, 200, 200, 200, 200)),
    ("orgs.my_transfer", "GET", "/account/transfer", (LOGIN, 200, 200, 200, 200, 200)),
    ("orgs.my_transfer", "POST", "/account/transfer", (LOGIN, 400, 400, 400, 400, 400)),  # no branch
    ("orgs.create", "GET", "/orgs/new", (LOGIN, 403, 403, 403, 200, 200)),
    ("orgs.create", "POST", "/orgs/new", (LOGIN, 403, 403, 403, 400, 400)),
    ("orgs.edit", "GET", "/orgs/CA-1/edit", (LOGIN, 403, 403, 403, 200, 200)),
    ("orgs.edit", "GET", "/orgs/CA/edit", (LOGIN, 403, 403, 403, 403, 200)),
    ("orgs.edit", "POST", "/orgs/CA-1/edit", (LOGIN, 403, 403, 403, 302, 302)),  # absent fields keep their values
    ("orgs.move", "POST", "/orgs/CA-1/move", (LOGIN, 403, 403, 403, 400, 400)),
    ("orgs.close", "POST", "/orgs/CA-2/close", (LOGIN, 403, 403, 403, 409, 409)),
    ("orgs.transfers", "GET", "/orgs/transfers", (LOGIN, 403, 200, 200, 200, 200)),
    ("orgs.transfers", "POST", "/orgs/transfers", (LOGIN, 403, 400, 400, 400, 400)),
    ("orgs.roles", "GET", "/admin/roles", (LOGIN, 403, 403, 403, 403, 200)),
    ("orgs.roles", "POST", "/admin/roles", (LOGIN, 403, 403, 403, 403, 400)),
    ("roster.upload", "GET", "/orgs/CA-1/import", (LOGIN, 403, 200, 403, 200, 200)),
    ("roster.upload", "POST", "/orgs/CA-1/import", (LOGIN, 403, 400, 403, 400, 400)),
    ("roster.commit", "POST", "/orgs/CA-1/import/{roster_token}", (LOGIN, 403, 400, 403, 400, 400)),
    ("roster.template", "GET", "/roster/template.xlsx", (LOGIN, 403, 200, 200, 200, 200)),
    ("invites.index", "GET", "/orgs/CA-1/invitations", (LOGIN, 403, 200, 403, 200, 200)),
    ("invites.index", "POST", "/orgs/CA-1/invitations", (LOGIN, 403, 302, 403, 302, 302)),
    ("invites.show", "GET", "/orgs/CA-1/invitations/{invitation}", (LOGIN, 403, 200, 403, 200, 200)),
    ("invites.join", "GET", "/join/{invite_token}", (200, 200, 200, 200, 200, 200)),
    ("invites.join", "POST", "/join/{invite_token}", (400, 409, 409, 200, 200, 200)),
    ("invites.join", "GET", "/join/no-such-token", (404, 404, 404, 404, 404, 404)),
    ("invites.decide", "POST", "/join-requests/{join_request}/approve", (LOGIN, 403, 302, 403, 302, 302)),
    ("invites.revoke", "POST", "/orgs/CA-1/invitations/{invitation}/revoke", (LOGIN, 403, 302, 403, 302, 302)),
    ("orgs.decide_transfer", "POST", "/orgs/transfers/{transfer}/approve", (LOGIN, 403, 403, 302, 302, 302)),
    ("orgs.decide_transfer", "POST", "/orgs/transfers/{transfer}/cancel", (LOGIN, 302, 302, 403, 302, 302)),
    ("orgs.revoke", "POST", "/admin/roles/{sibling_grant}/revoke", (LOGIN, 403, 403, 403, 403, 302)),
    ("orgs.activation_code", "POST", "/members/{member_id}/activation-code", (LOGIN, 403, 200, 403, 200, 200)),
    ("orgs.activation_code", "POST", "/members/{committee_id}/activation-code", (LOGIN, 403, 403, 403, 403, 200)),
    ("privacy.members", "GET", "/admin/members?q=138", (LOGIN, 403, 403, 403, 403, 200)),
    ("privacy.member", "GET", "/admin/members/{other}", (LOGIN, 403, 403, 403, 403, 200)),
    ("privacy.member_action", "POST", "/admin/members/{other}/deactivate", (LOGIN, 403, 403, 403, 403, 302)),
    ("audit.index", "GET", "/admin/audit?action=login", (LOGIN, 403, 403, 403, 403, 200)),
    ("static", "GET", "/static/css/app.css", (200, 200, 200, 200, 200, 200)),
    ("pwa.service_worker", "GET", "/sw.js", (200, 200, 200, 200, 200, 200)),
    ("pwa.manifest", "GET", "/manifest.webmanifest", (200, 200, 200, 200, 200, 200)),
    ("pwa.offline", "GET", "/offline", (200, 200, 200, 200, 200, 200)),
    ("api.session_info", "GET", "/api/v1/session", (401, 200, 200, 200, 200, 200)),
    ("api.course_offline", "GET", "/api/v1/courses/{course}/offline", (401, 200, 200, 200, 200, 200)),
    ("api.course_offline", "GET", "/api/v1/courses/{draft}/offline", (401, 404, 404, 404, 404, 200)),
    # 学习心得: the member finished {course} and submitted {reflection}; reviewers are the
    # secretaries of the member's branch and of the committee above, and administrators
    ("reflections.write", "GET", "/courses/{course}/reflection", (LOGIN, 200, 403, 403, 403, 403)),
    ("reflections.write", "POST", "/courses/{course}/reflection", (LOGIN, 400, 403, 403, 403, 403)),
    ("reflections.write", "GET", "/courses/{draft}/reflection", (LOGIN, 404, 404, 404, 404, 403)),
    ("reflections.mine", "GET", "/reflections", (LOGIN, 200, 200, 200, 200, 200)),
    ("reflections.queue", "GET", "/reflections/review", (LOGIN, 403, 200, 200, 200, 200)),
    ("reflections.queue", "GET", "/reflections/review?org=CA-1", (LOGIN, 403, 200, 403, 200, 200)),
    ("reflections.detail", "GET", "/reflections/{reflection}", (LOGIN, 200, 200, 403, 200, 200)),
    ("reflections.detail", "GET", "/reflections/999999", (LOGIN, 404, 404, 404, 404, 404)),
    ("reflections.review", "POST", "/reflections/{reflection}/review", (LOGIN, 403, 400, 403, 400, 400)),
    ("reflections.feature", "POST", "/reflections/{reflection}/feature", (LOGIN, 403, 400, 403, 400, 400)),
    ("api.reflections_list", "GET", "/api/v1/reflections", (LOGIN, 200, 200, 200, 200, 200)),
    ("api.reflections_write", "POST", "/api/v1/reflections", (LOGIN, 400, 400, 400, 400, 400)),  # a form, not JSON
    # non-members' points ranking (to propose 入党积极分子) and its audited export
    ("stats.prospects", "GET", "/orgs/CA-1/prospects", (LOGIN, 403, 200, 403, 200, 200)),
    ("stats.prospects", "GET", "/orgs/CA/prospects?year=2025", (LOGIN, 403, 403, 403, 200, 200)),
    ("stats.export", "GET", "/orgs/CA-1/dashboard/export?table=prospects&format=csv", (LOGIN, 403, 200, 403, 200, 200)),
    ("stats.dashboard", "GET", "/orgs/CA-1/dashboard?kind=masses", (LOGIN, 403, 200, 403, 200, 200)),
    ("stats.dashboard", "GET", "/orgs/CA-1/dashboard?kind=nope", (LOGIN, 403, 400, 403, 400, 400)),
    # 积分兑换 (issue 11): the secretary staffs {station}, the sibling secretary {station2}
    ("redemption.points", "GET", "/points", (LOGIN, 200, 200, 200, 200, 200)),
    ("redemption.refresh_code", "POST", "/points/code", (LOGIN, 302, 302, 302, 302, 302)),
    ("redemption.my_stations", "GET", "/stations", (LOGIN, 403, 302, 302, 403, 200)),
    ("redemption.station", "GET", "/stations/{station}", (LOGIN, 403, 200, 403, 403, 200)),
    ("redemption.station", "GET", "/stations/{station2}", (LOGIN, 403, 403, 200, 403, 200)),
    ("redemption.export", "GET", "/stations/{station}/export?format=csv", (LOGIN, 403, 200, 403, 403, 200)),
    ("redemption.export", "GET", "/stations/{station}/export?format=pdf", (LOGIN, 403, 400, 403, 403, 400)),
    ("redemption.redeem", "GET", "/stations/{station}/redeem", (LOGIN, 403, 200, 403, 403, 200)),
    ("redemption.redeem", "GET", "/stations/{station}/redeem?code=000000000000", (LOGIN, 403, 404, 403, 403, 404)),
    ("redemption.redeem", "POST", "/stations/{station}/redeem", (LOGIN, 403, 400, 403, 403, 400)),
    ("redemption.admin_index", "GET", "/admin/stations", (LOGIN, 403, 403, 403, 403, 200)),
    ("redemption.admin_index", "POST", "/admin/stations", (LOGIN, 403, 403, 403, 403, 400)),
    ("redemption.admin_station", "GET", "/admin/stations/{station}", (LOGIN, 403, 403, 403, 403, 200)),
    ("redemption.admin_station", "POST", "/admin/stations/{station}", (LOGIN, 403, 403, 403, 403, 400)),
    ("redemption.admin_item_add", "POST", "/admin/stations/{station}/items", (LOGIN, 403, 403, 403, 403, 400)),
    ("redemption.admin_item", "POST", "/admin/stations/{station}/items/{station_item}", (LOGIN, 403, 403, 403, 403, 400)),
    ("redemption.admin_item", "POST", "/admin/stations/{station2}/items/{station_item}", (LOGIN, 403, 403, 403, 403, 404)),
    ("redemption.admin_staff_add", "POST", "/admin/stations/{station}/staff", (LOGIN, 403, 403, 403, 403, 400)),
    ("redemption.admin_staff_remove", "POST", "/admin/stations/{station2}/staff/{sibling_id}/remove", (LOGIN, 403, 403, 403, 403, 302)),
    ("api.my_points", "GET", "/api/v1/me/points", (LOGIN, 200, 200, 200, 200, 200)),
    ("api.new_redemption_code", "POST", "/api/v1/me/redemption-codes", (LOGIN, 201, 201, 201, 201, 201)),
    ("api.redeem", "POST", "/api/v1/redemptions", (LOGIN, 400, 400, 400, 400, 400)),  # a form, not JSON
    # operations: the health check answers everyone (load balancers have no login)
    ("ops.healthz", "GET", "/healthz", (200, 200, 200, 200, 200, 200)),
]


@pytest.fixture
def world(city, make_course, app, tmp_path):
    course = make_course()
    draft = make_course(title="草稿课程", status=CourseStatus.DRAFT)
    for c in (course, draft):
        c.media_dir = f"{c.slug}/v1"
        folder = tmp_path / "instance" / "courses" / c.media_dir / "media"
        folder.mkdir(parents=True)
        (folder / "cover.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 32)
    from learning.api.operations import issue_token
    from learning.assignments.operations import assign
    from learning.extensions import db
    from learning.meetings.operations import record_session
    from learning.timeutil import utcnow

    token, _secret = issue_token(city["member"], "phone", utcnow())
    second, _secret = issue_token(city["member"], "tablet", utcnow())
    today = local_today()
    assignment = assign(actor=city["secretary"], org=city["a1"], course=course, due_on=today + timedelta(days=9))
    parent_assignment = assign(actor=city["committee"], org=city["a1"].parent, course=course, due_on=today)
    meeting = record_session(actor=city["secretary"], org=city["a1"], title="主题党日", kind="party_day",
                             held_on=today, hours=2.0, category="理论学习", attendees=[city["member"]])
    invitation = create_invitation(city["a1"], actor=city["secretary"], days=7, max_uses=100)
    join = request_activity(invitation, city["other"])
    transfer = request_transfer(city["member"], city["a2"], local_today() + timedelta(days=30),
                                actor=city["secretary"])
    sibling_grant = city["sibling"].roles[0]
    finish_course(city["member"], course, utcnow())
    reflection = submit_reflection(city["member"], course, "学习心得" * 20)
    from learning.redemption.operations import add_item, add_staff, create_station

    station = create_station(name="骑手驿站", address="", orgs=[city["a1"]], actor=city["admin"])
    station_item = add_item(station, name="雨衣", price=30, stock=5, actor=city["admin"])
    add_staff(station, city["secretary"], actor=city["admin"])
    station2 = create_station(name="城南驿站", address="", orgs=[city["a2"]], actor=city["admin"])
    add_staff(station2, city["sibling"], actor=city["admin"])
    forum = _forum(city, course, draft)
    db.session.commit()
    return {"course": course.slug, "draft": draft.slug, "text_lesson": course.lessons[0].id,
            "quiz_lesson": course.lessons[2].id, "draft_lesson": draft.lessons[0].id,
            "member_token": token.id, "member_token2": second.id,
            "member_id": city["member"].id, "other_id": city["other"].id, "committee_id": city["committee"].id,
            "assignment": assignment.id, "parent_assignment": parent_assignment.id, "meeting": meeting.id,
            "invitation": invitation.id, "invite_token": invitation.token, "join_request": join.id,
            "transfer": transfer.id, "sibling_grant": sibling_grant.id, "other": city["other"].id,
            "roster_token": "x" * 32, "reflection": reflection.id, "station": station.id,
            "station2": station2.id, "station_item": station_item.id, "sibling_id": city["sibling"].id, **forum}


def _forum(city, course, draft) -> dict:
    from learning.community import operations as forum
    from sqlalchemy import select

    from learning.community.models import Notification
    from learning.extensions import db

    limits = forum.PostingLimits(per_10_min=100, per_day=100, max_chars=5000)
    board = forum.ensure_boards()[0]
    post = forum.create_post(city["member"], board, title="骑手安全", body="雨天骑车要慢。", limits=limits)
    other = forum.create_post(city["other"], board, body="@骑手小王 说得对。", reply_to=post, limits=limits)
    hidden = forum.create_post(city["member"], board, title="广告", body="加我微信", limits=limits)
    forum.moderate(city["secretary"], hidden, "hide", "广告")
    draft_discussion = forum.ensure_course_discussion(draft)
    forum.ensure_course_discussion(course)
    notification = db.session.scalar(select(Notification.id).where(Notification.member_id == city["member"].id))
    return {"board": board.id, "forum_post": post.id, "other_post": other.id, "hidden_post": hidden.id,
            "draft_discussion": draft_discussion.id, "notification": notification}


def _call(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    page = client.get("/login")  # every page carries the session's CSRF token
    if method == "DELETE":  # API calls carry it in a header
        return client.delete(url, headers={"X-CSRFToken": csrf_from(page.get_data(as_text=True))})
    return client.post(url, data={"csrf_token": csrf_from(page.get_data(as_text=True)), "q0": "0", "q1": "1"})


@pytest.mark.parametrize("role_index, role", list(enumerate(ROLES)))
def test_access_matrix(app, world, role_index, role):
    failures = []
    for endpoint, method, template, expected in MATRIX:
        client = app.test_client()
        if role != "anonymous":
            assert AuthActions(client).login(PHONES[role]).status_code == 302
        url = template.format(**world)
        response = _call(client, method, url)
        response.close()  # file responses (static, media) hold an open file
        want = expected[role_index]
        if want == LOGIN:
            ok = response.status_code in (302, 401) and "/login" in response.headers.get("Location", "/login")
        else:
            ok = response.status_code == want
        if not ok:
            failures.append(f"{method} {url}: {response.status_code}, expected {want}")
    assert not failures, f"{role}: " + "; ".join(failures)


def test_every_route_is_in_the_matrix(app):
    covered = {endpoint for endpoint, *_ in MATRIX}
    missing = sorted({rule.endpoint for rule in app.url_map.iter_rules()} - covered)
    assert not missing, f"routes missing from the access matrix: {missing}"
