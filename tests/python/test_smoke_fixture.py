def test_demo_warehouse_builds_weekly_performance(demo_warehouse):
    rows = demo_warehouse.mart("weekly_performance", "week_start")
    assert [row["week_label"] for row in rows][-2:] == ["2026-W01", "2026-W02"]
