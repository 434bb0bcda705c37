"""The console's words in Vietnamese (first: ward staff read it) and English.

The language is the ``lang`` cookie set by the switch in the page header, else the first of
the browser's Accept-Language that we have, else Vietnamese.
"""

from __future__ import annotations

from collections.abc import Callable

LANGS = ("vi", "en")
COOKIE = "gz_lang"

# key: (Vietnamese, English)
MESSAGES: dict[str, tuple[str, str]] = {
    "console": ("Trung tâm chỉ huy", "Command centre"),
    "board": ("Cảnh báo", "Alerts"),
    "checkpoints": ("Chốt kiểm soát", "Checkpoints"),
    "levels": ("Cấp độ vùng", "Zone levels"),
    "passes": ("Giấy đi đường", "Passes"),
    "sign_in": ("Đăng nhập", "Sign in"),
    "sign_out": ("Đăng xuất", "Sign out"),
    "api_key": ("Khóa API", "API key"),
    "bad_key": ("Khóa không đúng hoặc đã bị thu hồi.", "Invalid or revoked key."),
    "signed_in_as": ("Đăng nhập với", "Signed in as"),
    "technician": ("Kỹ thuật viên", "Technician"),
    "commander": ("Chỉ huy", "Commander"),
    "admin": ("Quản trị", "Admin"),
    "all_wards": ("mọi phường", "all wards"),
    "open_alerts": ("Cảnh báo đang mở", "Open alerts"),
    "no_alerts": ("Không có cảnh báo nào đang mở.", "No open alerts."),
    "severity": ("Mức", "Severity"),
    "critical": ("Nghiêm trọng", "Critical"),
    "warning": ("Cảnh giác", "Warning"),
    "info": ("Thông tin", "Info"),
    "kind": ("Loại", "Kind"),
    "where": ("Nơi", "Where"),
    "opened": ("Mở lúc", "Opened"),
    "age": ("Đã qua", "Age"),
    "state": ("Trạng thái", "State"),
    "open": ("Đang mở", "Open"),
    "acknowledged": ("Đã tiếp nhận", "Acknowledged"),
    "resolved": ("Đã xử lý xong", "Resolved"),
    "count": ("Số lần", "Count"),
    "live": ("Trực tiếp", "Live"),
    "reconnecting": ("Đang kết nối lại…", "Reconnecting…"),
    "new_critical": ("Cảnh báo nghiêm trọng mới!", "New critical alert!"),
    "details": ("Chi tiết", "Details"),
    "summary": ("Nội dung", "Summary"),
    "note": ("Ghi chú", "Note"),
    "acknowledge": ("Tiếp nhận", "Acknowledge"),
    "resolve": ("Xử lý xong", "Resolve"),
    "by": ("bởi", "by"),
    "history": ("Diễn biến", "History"),
    "audit": ("Nhật ký thao tác", "Audit trail"),
    "change": ("Thay đổi", "Change"),
    "at": ("Lúc", "At"),
    "who": ("Người", "Who"),
    "action": ("Thao tác", "Action"),
    "new": ("Mới", "New"),
    "updated": ("Cập nhật", "Updated"),
    "escalated": ("Đã báo lên cấp trên", "Escalated"),
    "back": ("Quay lại", "Back"),
    "checkpoint": ("Chốt", "Checkpoint"),
    "nodes": ("Thiết bị", "Nodes"),
    "node": ("Thiết bị", "Node"),
    "traffic": ("Hoạt động, có người qua", "Online, traffic"),
    "quiet": ("Hoạt động, không có người qua", "Online, quiet"),
    "offline": ("Mất kết nối", "Offline"),
    "since": ("từ", "since"),
    "last_health": ("Báo cáo gần nhất", "Last health"),
    "outbox": ("Hàng chờ", "Outbox"),
    "sensor_errors": ("Lỗi cảm biến", "Sensor errors"),
    "cpu_temp": ("Nhiệt độ CPU", "CPU temperature"),
    "flags": ("Cờ", "Flags"),
    "grafana": ("Biểu đồ", "Dashboard"),
    "no_checkpoints": ("Chưa có chốt nào báo cáo.", "No checkpoint has reported yet."),
    "target": ("Vùng hoặc chốt", "Zone or checkpoint"),
    "level": ("Cấp độ", "Level"),
    "set_at": ("Đặt lúc", "Set at"),
    "set_by": ("Người đặt", "Set by"),
    "set_level": ("Đặt cấp độ", "Set level"),
    "no_levels": (
        "Chưa đặt cấp độ nào: các chốt dùng cấp độ trong cấu hình.",
        "No level set: checkpoints use their configured level.",
    ),
    "confirm_level": ("Xác nhận đổi cấp độ", "Confirm the level change"),
    "confirm_level_text": (
        "Đặt {target} thuộc {ward} thành cấp độ {level}? Việc này thay đổi ai được qua chốt.",
        "Set {target} in {ward} to level {level}? This changes who may pass.",
    ),
    "confirm": ("Xác nhận", "Confirm"),
    "cancel": ("Hủy", "Cancel"),
    "version": ("Phiên bản", "Version"),
    "applied": ("Đã áp dụng", "Applied"),
    "not_yet": ("Chưa áp dụng", "Not yet"),
    "policy_nodes": ("Thiết bị đã nhận cấp độ mới", "Nodes on the new levels"),
    "read_only": ("Chỉ chỉ huy được đổi cấp độ.", "Only commanders may change levels."),
    "issue_pass": ("Cấp giấy đi đường", "Issue a pass"),
    "category": ("Loại giấy", "Category"),
    "valid_days": ("Số ngày hiệu lực", "Valid days"),
    "label": ("Nhãn trên thẻ", "Card label"),
    "zone": ("Vùng", "Zone"),
    "issue": ("Cấp", "Issue"),
    "valid_until": ("Hiệu lực đến", "Valid until"),
    "card": ("In thẻ", "Print card"),
    "revoke": ("Thu hồi", "Revoke"),
    "confirm_revoke": (
        "Thu hồi giấy {pass_id}? Không thể hoàn tác.",
        "Revoke pass {pass_id}? This cannot be undone.",
    ),
    "revoked": ("Đã thu hồi", "Revoked"),
    "valid": ("Còn hiệu lực", "Valid"),
    "pass_id": ("Mã giấy", "Pass id"),
    "no_passes": ("Chưa cấp giấy nào.", "No pass issued yet."),
    "ward": ("Phường", "Ward"),
    "resident": ("Cư dân", "Resident"),
    "temporary_resident": ("Tạm trú (thẻ hồng)", "Temporary resident (pink card)"),
    "essential_worker": ("Lao động thiết yếu", "Essential worker"),
    "medical": ("Y tế", "Medical"),
    "delivery": ("Giao hàng", "Delivery"),
    "official": ("Công vụ", "Official"),
    "visitor": ("Khách", "Visitor"),
    "docs": ("Tài liệu API", "API docs"),
    "minutes": ("{n} phút", "{n} min"),
    "hours": ("{n} giờ {m} phút", "{n} h {m} min"),
    "seconds": ("{n} giây", "{n} s"),
    "done": ("Đã lưu.", "Saved."),
    "error": ("Lỗi", "Error"),
    # Alert kinds (hub/rules/): the board names them; the hub's summary follows in English.
    "kind:fever": ("Sốt", "Fever"),
    "kind:node_offline": ("Thiết bị mất kết nối", "Node offline"),
    "kind:barrier_forced_open": ("Barie bị mở cưỡng bức", "Barrier forced open"),
    "kind:barrier_held_open": ("Barie bị giữ mở", "Barrier held open"),
    "kind:barrier_fault": ("Barie hỏng", "Barrier fault"),
    "kind:cloned_pass": ("Giấy đi đường bị sao chép", "Cloned pass"),
    "kind:revoked_pass_admitted": ("Giấy đã thu hồi vẫn được qua", "Revoked pass admitted"),
    "kind:refused_burst": ("Nhiều lượt bị từ chối", "Burst of refusals"),
    "kind:traffic_anomaly": ("Lưu lượng bất thường", "Unusual traffic"),
    "kind:clock_skew": ("Lệch đồng hồ", "Clock skew"),
    "kind:cpu_temp_critical": ("CPU quá nóng", "CPU too hot"),
    "kind:disk_critical": ("Sắp hết bộ nhớ", "Disk nearly full"),
    "kind:outbox_backlog": ("Hàng chờ tồn đọng", "Outbox backlog"),
    "kind:thermometer_drift": ("Nhiệt kế lệch", "Thermometer drift"),
    "kind:thermometer_ambient_drift": ("Nhiệt độ môi trường lệch", "Ambient drift"),
    "kind:thermometer_stuck": ("Nhiệt kế bị kẹt", "Thermometer stuck"),
}


def translator(lang: str) -> Callable[..., str]:
    index = LANGS.index(lang) if lang in LANGS else 0

    def t(key: str, **values: object) -> str:
        pair = MESSAGES.get(key)
        # Unknown keys show as themselves (an alert kind newer than this table: its id).
        text = pair[index] if pair is not None else key.removeprefix("kind:")
        return text.format(**values) if values else text

    return t


def pick(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language, else the best Accept-Language we have, else Vietnamese."""
    if cookie in LANGS:
        return cookie
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        lang = tag.strip().lower().split("-")[0]
        if lang in LANGS and q > 0:
            ranked.append((-q, position, lang))
    return min(ranked)[2] if ranked else LANGS[0]
