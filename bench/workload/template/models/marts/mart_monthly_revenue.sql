CREATE OR REPLACE TABLE marts.mart_monthly_revenue AS
SELECT
    order_month,
    count(*)                                             AS order_lines,
    sum(quantity)                                        AS units,
    sum(gross_amount)                                    AS gross_revenue,
    sum(net_amount)                                      AS net_revenue,
    sum(invoiced_amount)                                 AS invoiced_revenue,
    sum(CASE WHEN is_returned THEN net_amount ELSE 0 END) AS returned_revenue,
    avg(days_to_ship)                                    AS avg_days_to_ship
FROM intermediate.int_order_lines
GROUP BY order_month;
