"""积分兑换: service stations (驿站), their items and staff, and redemptions of points."""
from flask import Blueprint

bp = Blueprint("redemption", __name__)
