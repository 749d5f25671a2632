CREATE OR REPLACE TABLE intermediate.int_order_lines AS
SELECT
    o.order_key,
    o.customer_key,
    o.order_date,
    o.order_month,
    o.order_status,
    o.priority_name,
    o.clerk_id,
    l.line_number,
    l.part_key,
    l.supplier_key,
    l.quantity,
    l.gross_amount,
    l.net_amount,
    l.invoiced_amount,
    l.is_returned,
    l.ship_date,
    l.commit_date,
    l.receipt_date,
    l.days_late,
    l.ship_mode,
    datediff('day', o.order_date, l.ship_date) AS days_to_ship
FROM staging.stg_orders AS o
JOIN staging.stg_lineitem AS l
    ON l.order_key = o.order_key
WHERE o.order_date >= DATE '1994-01-01'  -- history before 1994 is archived
  AND o.order_status <> 'P';
