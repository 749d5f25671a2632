CREATE OR REPLACE TABLE marts.mart_shipping_delays AS
SELECT
    ship_mode,
    priority_name,
    year(order_date)                          AS order_year,
    count(*)                                  AS lines,
    avg(days_late)                            AS avg_days_late,
    quantile_cont(days_late, 0.9)             AS p90_days_late,
    avg(CASE WHEN days_late > 0 THEN 1.0 ELSE 0.0 END) AS late_share,
    avg(days_to_ship)                         AS avg_days_to_ship
FROM intermediate.int_order_lines
GROUP BY ship_mode, priority_name, year(order_date);
