CREATE OR REPLACE TABLE marts.mart_supplier_performance AS
SELECT
    ps.supplier_key,
    ps.supplier_name,
    ps.supplier_nation,
    count(*)                                           AS lines_shipped,
    sum(ol.quantity)                                   AS units_shipped,
    sum(ol.net_amount)                                 AS revenue,
    sum(ol.net_amount - ol.quantity * ps.supply_cost)  AS gross_margin,
    avg(CASE WHEN ol.days_late > 0 THEN 1.0 ELSE 0.0 END) AS late_share,
    avg(CASE WHEN ol.is_returned THEN 1.0 ELSE 0.0 END)   AS return_share
FROM intermediate.int_order_lines AS ol
JOIN intermediate.int_part_suppliers AS ps
    ON ps.part_key = ol.part_key
   AND ps.supplier_key = ol.supplier_key
GROUP BY ps.supplier_key, ps.supplier_name, ps.supplier_nation;
