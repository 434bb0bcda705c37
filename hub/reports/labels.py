"""Vietnamese labels of the report (the command centre reads Vietnamese first), with the
English word after a slash where a technician may need it."""

from __future__ import annotations

TITLE = "BÁO CÁO GIAO BAN HẰNG NGÀY / Daily briefing"
NOT_RECORDED = "chưa ghi nhận / not recorded"

METRICS = {
    "admitted": "Cho qua / admitted",
    "refused": "Từ chối / refused",
    "fevers": "Sốt (đo lại xác nhận) / fevers",
    "overrides": "Mở tay có lý do / overrides",
    "unmanned_hours": "Giờ không người trực / unmanned hours",
    "node_availability": "Nút hoạt động (tỷ lệ giờ) / node availability",
    "alerts_raised": "Cảnh báo phát sinh / alerts raised",
    "alerts_acknowledged": "Cảnh báo đã xác nhận / acknowledged",
    "alerts_open_at_end": "Cảnh báo còn mở cuối ngày / still open",
    "ack_mean_s": "Thời gian xác nhận TB (giây) / mean time to acknowledge (s)",
    "ack_max_s": "Thời gian xác nhận lâu nhất (giây) / longest (s)",
}

REASONS = {
    "fever": "sốt",
    "thermometer_fault": "lỗi nhiệt kế",
    "no_pass": "không có giấy",
    "pass_unreadable": "không đọc được mã",
    "pass_not_a_pass": "mã không phải giấy đi đường",
    "pass_bad_signature": "chữ ký sai",
    "pass_unknown_key": "khóa không rõ",
    "pass_expired": "giấy hết hạn",
    "pass_not_yet_valid": "giấy chưa có hiệu lực",
    "pass_wrong_ward": "giấy của phường khác",
    "pass_revoked": "giấy đã bị thu hồi",
    "pass_not_here": "giấy không dùng ở chốt này",
    "outside_hours": "ngoài giờ cho phép",
    "level_not_allowed": "cấp độ không cho phép",
    "stale_trust": "danh sách tin cậy quá cũ",
}


def reason(code: str) -> str:
    return f"{REASONS.get(code, code)} / {code}"
