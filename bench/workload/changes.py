"""The history of the workload repository: after the initial pipeline (template/), one change
per commit, in order, each the kind of edit a data team makes.

A change is (tag, message, edits). Tags (`CHANGE_KINDS`) say what kind of change it is:
`slower` and `faster` mark changes made to change the cost a lot (the runtime predictor and
`git lineage anomalies` should see them); the others are ordinary edits whose cost effect, if
any, is whatever DuckDB makes of them. Edits:

- ("replace", path, old, new): `old` must occur exactly once in the file;
- ("write", path, text): a new file (or a rewrite of a whole one);
- ("delete", path) and ("rename", old, new) (the content moves unchanged);
- ("scale_factor", sf): sets the production input in pipeline.conf (the data grows).

The production scale factor starts at INITIAL_SCALE_FACTOR (template/pipeline.conf) and grows
with the `grow_input` changes.
"""

INITIAL_SCALE_FACTOR = 0.1

CHANGE_KINDS = {
    "add_join": "joins a table the model did not read before",
    "drop_filter": "removes a WHERE / HAVING condition",
    "add_filter": "adds a WHERE / HAVING condition",
    "move_filter_before_join": "moves a condition into a CTE that is filtered before the join",
    "add_window": "adds a window function",
    "select_star": "replaces an explicit column list with *",
    "explicit_columns": "replaces * with an explicit column list",
    "add_distinct": "adds DISTINCT",
    "order_by_no_limit": "adds an ORDER BY without LIMIT (in a CTE or the final SELECT)",
    "new_model": "adds a model (a transformation without history)",
    "rename_model": "moves a model file to a new path, SQL unchanged",
    "remove_model": "deletes a model",
    "refactor": "changes nothing about cost: comments, formatting, aliases, equivalent SQL",
    "slower": "makes the model much slower on purpose (self-join, cross join, correlated "
              "subquery, count(distinct), wide windows, …)",
    "faster": "makes the model faster (the fix of a slow change, fewer columns, …)",
    "grow_input": "raises the production scale factor (more input rows everywhere)",
}

AUTHORS = [
    ("Ana Lima", "ana.lima@example.com"),
    ("Ben Okafor", "ben.okafor@example.com"),
    ("Chen Wei", "chen.wei@example.com"),
]

M = "models/"
ORDER_LINES = M + "intermediate/int_order_lines.sql"
CUSTOMERS = M + "intermediate/int_customers.sql"
PART_SUPPLIERS = M + "intermediate/int_part_suppliers.sql"
MONTHLY = M + "marts/mart_monthly_revenue.sql"
LTV = M + "marts/mart_customer_ltv.sql"
SUPPLIERS = M + "marts/mart_supplier_performance.sql"
SHIPPING = M + "marts/mart_shipping_delays.sql"
SHIPPING_MOVED = M + "marts/logistics/mart_shipping_delays.sql"
RANKINGS = M + "marts/mart_part_rankings.sql"
SEGMENTS = M + "marts/mart_customer_segments.sql"
SEGMENTS_MOVED = M + "marts/customers/mart_customer_segments.sql"
RETURNS = M + "marts/mart_return_rates.sql"
SLA = M + "marts/mart_order_priority_sla.sql"
STG_ORDERS = M + "staging/stg_orders.sql"
STG_LINEITEM = M + "staging/stg_lineitem.sql"
STG_CUSTOMERS = M + "staging/stg_customers.sql"
STG_SUPPLIERS = M + "staging/stg_suppliers.sql"
RAW_LINEITEM = M + "raw/lineitem.sql"

MONTHLY_BY_REGION = """\
CREATE OR REPLACE TABLE marts.mart_monthly_revenue AS
SELECT
    ol.order_month,
    c.region_name,
    count(*)                                                   AS order_lines,
    sum(ol.quantity)                                           AS units,
    sum(ol.gross_amount)                                       AS gross_revenue,
    sum(ol.net_amount)                                         AS net_revenue,
    sum(ol.invoiced_amount)                                    AS invoiced_revenue,
    sum(CASE WHEN ol.is_returned THEN ol.net_amount ELSE 0 END) AS returned_revenue,
    avg(ol.days_to_ship)                                       AS avg_days_to_ship
FROM intermediate.int_order_lines AS ol
JOIN intermediate.int_customers AS c
    ON c.customer_key = ol.customer_key
GROUP BY ol.order_month, c.region_name;
"""

SEGMENTS_SQL = """\
CREATE OR REPLACE TABLE marts.mart_customer_segments AS
SELECT
    market_segment,
    region_name,
    count(*)                        AS customers,
    sum(orders)                     AS orders,
    sum(lifetime_value)             AS lifetime_value,
    avg(lifetime_value)             AS avg_lifetime_value,
    median(lifetime_value)          AS median_lifetime_value,
    avg(avg_order_value)            AS avg_order_value,
    max(last_order_date)            AS last_order_date
FROM marts.mart_customer_ltv
GROUP BY market_segment, region_name;
"""

RETURNS_SQL = """\
CREATE OR REPLACE TABLE marts.mart_return_rates AS
SELECT
    p.material,
    p.size_band,
    ol.ship_mode,
    count(*)                                              AS lines,
    sum(CASE WHEN ol.is_returned THEN 1 ELSE 0 END)       AS returned_lines,
    avg(CASE WHEN ol.is_returned THEN 1.0 ELSE 0.0 END)   AS return_rate,
    sum(CASE WHEN ol.is_returned THEN ol.net_amount ELSE 0 END) AS returned_revenue
FROM intermediate.int_order_lines AS ol
JOIN staging.stg_parts AS p
    ON p.part_key = ol.part_key
GROUP BY p.material, p.size_band, ol.ship_mode;
"""

STG_SUPPLIERS_SQL = """\
CREATE OR REPLACE TABLE staging.stg_suppliers AS
SELECT
    s_suppkey                                        AS supplier_key,
    trim(s_name)                                     AS supplier_name,
    s_nationkey                                      AS nation_key,
    CAST(s_acctbal AS DECIMAL(12, 2))                AS account_balance,
    s_comment LIKE '%Customer%Complaints%'           AS has_complaints,
    s_comment LIKE '%Customer%Recommends%'           AS is_recommended
FROM raw.supplier;
"""

SLA_SQL = """\
CREATE OR REPLACE TABLE marts.mart_order_priority_sla AS
WITH order_shipping AS (
    SELECT
        order_key,
        priority_name,
        order_date,
        max(ship_date)      AS last_ship_date,
        max(receipt_date)   AS last_receipt_date,
        bool_or(days_late > 0) AS any_line_late
    FROM intermediate.int_order_lines
    GROUP BY order_key, priority_name, order_date
)
SELECT
    priority_name,
    date_trunc('quarter', order_date)                       AS order_quarter,
    count(*)                                                AS orders,
    avg(datediff('day', order_date, last_receipt_date))     AS avg_days_to_deliver,
    avg(CASE WHEN any_line_late THEN 1.0 ELSE 0.0 END)      AS late_order_share
FROM order_shipping
GROUP BY priority_name, date_trunc('quarter', order_date);
"""

SHIPPING_GRID_CROSS = """\
CREATE OR REPLACE TABLE marts.mart_shipping_delays AS
-- every ship mode for every priority and year, with zeros where nothing shipped
WITH ship_modes AS (
    SELECT DISTINCT ship_mode FROM staging.stg_lineitem
)
SELECT
    m.ship_mode,
    ol.priority_name,
    year(ol.order_date)                                               AS order_year,
    sum(CASE WHEN ol.ship_mode = m.ship_mode THEN 1 ELSE 0 END)       AS lines,
    avg(CASE WHEN ol.ship_mode = m.ship_mode THEN ol.days_late END)   AS avg_days_late,
    quantile_cont(CASE WHEN ol.ship_mode = m.ship_mode THEN ol.days_late END, 0.9)
                                                                      AS p90_days_late,
    avg(CASE WHEN ol.ship_mode = m.ship_mode
             THEN CASE WHEN ol.days_late > 0 THEN 1.0 ELSE 0.0 END END) AS late_share,
    avg(CASE WHEN ol.ship_mode = m.ship_mode THEN ol.days_to_ship END) AS avg_days_to_ship
FROM intermediate.int_order_lines AS ol
CROSS JOIN ship_modes AS m
GROUP BY m.ship_mode, ol.priority_name, year(ol.order_date);
"""

SHIPPING_GRID_LEFT = """\
CREATE OR REPLACE TABLE marts.mart_shipping_delays AS
-- every ship mode x priority x year, with zeros where nothing shipped
WITH ship_modes AS (
    SELECT DISTINCT ship_mode FROM staging.stg_lineitem
),
priorities AS (
    SELECT DISTINCT priority_name FROM staging.stg_orders
),
years AS (
    SELECT DISTINCT year(order_date) AS order_year FROM intermediate.int_order_lines
),
delays AS (
    SELECT
        ship_mode,
        priority_name,
        year(order_date)                                   AS order_year,
        count(*)                                           AS lines,
        avg(days_late)                                     AS avg_days_late,
        quantile_cont(days_late, 0.9)                      AS p90_days_late,
        avg(CASE WHEN days_late > 0 THEN 1.0 ELSE 0.0 END) AS late_share,
        avg(days_to_ship)                                  AS avg_days_to_ship
    FROM intermediate.int_order_lines
    GROUP BY ship_mode, priority_name, year(order_date)
)
SELECT
    m.ship_mode,
    p.priority_name,
    y.order_year,
    coalesce(d.lines, 0) AS lines,
    d.avg_days_late,
    d.p90_days_late,
    d.late_share,
    d.avg_days_to_ship
FROM ship_modes AS m
CROSS JOIN priorities AS p
CROSS JOIN years AS y
LEFT JOIN delays AS d
    ON d.ship_mode = m.ship_mode
   AND d.priority_name = p.priority_name
   AND d.order_year = y.order_year;
"""

RANKINGS_SELF_JOIN = """\
CREATE OR REPLACE TABLE marts.mart_part_rankings AS
WITH part_revenue AS (
    SELECT
        part_key,
        sum(quantity)    AS units,
        sum(net_amount)  AS revenue
    FROM intermediate.int_order_lines
    GROUP BY part_key
),
ranked AS (
    SELECT
        p.part_key,
        p.part_name,
        p.brand,
        p.material,
        pr.units,
        pr.revenue,
        rank() OVER (PARTITION BY p.brand ORDER BY pr.revenue DESC)  AS brand_rank,
        pr.revenue / sum(pr.revenue) OVER (PARTITION BY p.brand)    AS brand_revenue_share
    FROM part_revenue AS pr
    JOIN staging.stg_parts AS p
        ON p.part_key = pr.part_key
)
SELECT
    r.part_key,
    r.part_name,
    r.brand,
    r.material,
    r.units,
    r.revenue,
    r.brand_rank,
    r.brand_revenue_share,
    count(ahead.part_key)  AS parts_ahead_in_brand
FROM ranked AS r
LEFT JOIN ranked AS ahead
    ON ahead.brand = r.brand
   AND ahead.revenue > r.revenue
GROUP BY
    r.part_key, r.part_name, r.brand, r.material, r.units, r.revenue, r.brand_rank,
    r.brand_revenue_share;
"""

RANKINGS_WINDOW = """\
CREATE OR REPLACE TABLE marts.mart_part_rankings AS
WITH part_revenue AS (
    SELECT
        part_key,
        sum(quantity)    AS units,
        sum(net_amount)  AS revenue
    FROM intermediate.int_order_lines
    GROUP BY part_key
)
SELECT
    p.part_key,
    p.part_name,
    p.brand,
    p.material,
    pr.units,
    pr.revenue,
    rank() OVER (PARTITION BY p.brand ORDER BY pr.revenue DESC)      AS brand_rank,
    pr.revenue / sum(pr.revenue) OVER (PARTITION BY p.brand)        AS brand_revenue_share,
    rank() OVER (PARTITION BY p.brand ORDER BY pr.revenue DESC) - 1  AS parts_ahead_in_brand
FROM part_revenue AS pr
JOIN staging.stg_parts AS p
    ON p.part_key = pr.part_key;
"""

ORDER_LINES_EXPLICIT_SELECT = """\
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
"""

CHANGES = [
    # --- the first seven are also the --quick history ---
    ("add_join", "monthly revenue: break revenue down by customer region",
     [("write", MONTHLY, MONTHLY_BY_REGION)]),
    ("drop_filter", "int_order_lines: drop the 1994 cut-off, cohort reports need the full history",
     [("replace", ORDER_LINES,
       "WHERE o.order_date >= DATE '1994-01-01'  -- history before 1994 is archived\n"
       "  AND o.order_status <> 'P';",
       "WHERE o.order_status <> 'P';")]),
    ("add_window", "customer LTV: rank customers by lifetime value within their nation",
     [("replace", LTV,
       "    max(co.order_date)       AS last_order_date\n",
       "    max(co.order_date)       AS last_order_date,\n"
       "    rank() OVER (PARTITION BY c.nation_name ORDER BY sum(co.order_value) DESC)"
       " AS nation_rank\n")]),
    ("grow_input", "pipeline: production input grows (scale factor 0.2)",
     [("scale_factor", 0.2)]),
    ("slower", "part rankings: add parts_ahead_in_brand, counted with a self-join",
     [("write", RANKINGS, RANKINGS_SELF_JOIN)]),
    ("refactor", "stg_customers: document the columns",
     [("replace", STG_CUSTOMERS,
       "    regexp_replace(c_phone, '[^0-9]', '', 'g') AS phone_digits,\n",
       "    -- phone numbers arrive as 'CC-AAA-BBB-NNNN'; keep the digits only\n"
       "    regexp_replace(c_phone, '[^0-9]', '', 'g') AS phone_digits,\n"),
      ("replace", STG_CUSTOMERS,
       "    c_acctbal < 0                      AS is_in_debt,\n",
       "    c_acctbal < 0                      AS is_in_debt,  -- negative balance = owes us\n")]),
    ("new_model", "new mart: customer segments by market segment and region",
     [("write", SEGMENTS, SEGMENTS_SQL)]),
    # --- the rest of the full history ---
    ("select_star", "int_customers: take every customer column instead of listing them",
     [("replace", CUSTOMERS,
       "    c.customer_key,\n"
       "    c.customer_name,\n"
       "    c.market_segment,\n"
       "    c.account_balance,\n"
       "    c.is_in_debt,\n",
       "    c.*,\n")]),
    ("move_filter_before_join",
     "int_order_lines: filter pending orders in a CTE before joining the lines",
     [("replace", ORDER_LINES,
       "CREATE OR REPLACE TABLE intermediate.int_order_lines AS\nSELECT\n",
       "CREATE OR REPLACE TABLE intermediate.int_order_lines AS\n"
       "WITH closed_orders AS (\n"
       "    SELECT *\n"
       "    FROM staging.stg_orders\n"
       "    WHERE order_status <> 'P'\n"
       ")\n"
       "SELECT\n"),
      ("replace", ORDER_LINES,
       "FROM staging.stg_orders AS o\n"
       "JOIN staging.stg_lineitem AS l\n"
       "    ON l.order_key = o.order_key\n"
       "WHERE o.order_status <> 'P';",
       "FROM closed_orders AS o\n"
       "JOIN staging.stg_lineitem AS l\n"
       "    ON l.order_key = o.order_key;")]),
    ("add_distinct", "int_customers: SELECT DISTINCT, in case the nation join ever fans out",
     [("replace", CUSTOMERS,
       "CREATE OR REPLACE TABLE intermediate.int_customers AS\nSELECT\n",
       "CREATE OR REPLACE TABLE intermediate.int_customers AS\nSELECT DISTINCT\n")]),
    ("order_by_no_limit",
     "supplier performance: read the lines through a CTE sorted by supplier and ship date",
     [("replace", SUPPLIERS,
       "CREATE OR REPLACE TABLE marts.mart_supplier_performance AS\n",
       "CREATE OR REPLACE TABLE marts.mart_supplier_performance AS\n"
       "WITH supplier_lines AS (\n"
       "    SELECT part_key, supplier_key, quantity, net_amount, days_late, is_returned\n"
       "    FROM intermediate.int_order_lines\n"
       "    ORDER BY supplier_key, ship_date\n"
       ")\n"),
      ("replace", SUPPLIERS,
       "FROM intermediate.int_order_lines AS ol\n",
       "FROM supplier_lines AS ol\n")]),
    ("add_filter", "customer LTV: keep repeat customers only (one-off buyers are noise)",
     [("replace", LTV,
       "GROUP BY\n"
       "    c.customer_key, c.customer_name, c.market_segment, c.nation_name, c.region_name;",
       "GROUP BY\n"
       "    c.customer_key, c.customer_name, c.market_segment, c.nation_name, c.region_name\n"
       "HAVING count(*) >= 2;")]),
    ("refactor", "int_part_suppliers: readable aliases",
     [("write", PART_SUPPLIERS, """\
CREATE OR REPLACE TABLE intermediate.int_part_suppliers AS
SELECT
    part.part_key,
    part.brand,
    part.material,
    part.size_band,
    part.retail_price,
    supplier.s_suppkey                               AS supplier_key,
    trim(supplier.s_name)                            AS supplier_name,
    nation.n_name                                    AS supplier_nation,
    offer.ps_availqty                                AS available_quantity,
    offer.ps_supplycost                              AS supply_cost,
    part.retail_price - offer.ps_supplycost          AS unit_margin,
    offer.ps_availqty * offer.ps_supplycost          AS stock_value
FROM staging.stg_parts AS part
JOIN raw.partsupp AS offer
    ON offer.ps_partkey = part.part_key
JOIN raw.supplier AS supplier
    ON supplier.s_suppkey = offer.ps_suppkey
JOIN raw.nation AS nation
    ON nation.n_nationkey = supplier.s_nationkey
WHERE supplier.s_comment NOT LIKE '%Customer%Complaints%';
""")]),
    ("grow_input", "pipeline: production input grows (scale factor 0.3)",
     [("scale_factor", 0.3)]),
    ("slower", "monthly revenue: count distinct orders, customers and parts per month",
     [("replace", MONTHLY,
       "    count(*)                                                   AS order_lines,\n",
       "    count(*)                                                   AS order_lines,\n"
       "    count(DISTINCT ol.order_key)                               AS orders,\n"
       "    count(DISTINCT ol.customer_key)                            AS active_customers,\n"
       "    count(DISTINCT ol.part_key)                                AS parts_sold,\n")]),
    ("explicit_columns", "int_customers: list the columns again (c.* leaked phone numbers)",
     [("replace", CUSTOMERS,
       "    c.*,\n",
       "    c.customer_key,\n"
       "    c.customer_name,\n"
       "    c.market_segment,\n"
       "    c.account_balance,\n"
       "    c.is_in_debt,\n")]),
    ("rename_model", "move the shipping delays mart under marts/logistics/",
     [("rename", SHIPPING, SHIPPING_MOVED)]),
    ("add_join", "int_order_lines: carry brand and material from stg_parts",
     [("replace", ORDER_LINES,
       "    datediff('day', o.order_date, l.ship_date) AS days_to_ship\n",
       "    datediff('day', o.order_date, l.ship_date) AS days_to_ship,\n"
       "    p.brand,\n"
       "    p.material\n"),
      ("replace", ORDER_LINES,
       "    ON l.order_key = o.order_key;",
       "    ON l.order_key = o.order_key\n"
       "JOIN staging.stg_parts AS p\n"
       "    ON p.part_key = l.part_key;")]),
    ("refactor", "supplier performance: clearer aliases",
     [("replace", SUPPLIERS, "FROM supplier_lines AS ol\n", "FROM supplier_lines AS lines\n"),
      ("replace", SUPPLIERS,
       "    ON ps.part_key = ol.part_key\n   AND ps.supplier_key = ol.supplier_key\n",
       "    ON ps.part_key = lines.part_key\n   AND ps.supplier_key = lines.supplier_key\n"),
      ("replace", SUPPLIERS,
       "    sum(ol.quantity)                                   AS units_shipped,\n"
       "    sum(ol.net_amount)                                 AS revenue,\n"
       "    sum(ol.net_amount - ol.quantity * ps.supply_cost)  AS gross_margin,\n"
       "    avg(CASE WHEN ol.days_late > 0 THEN 1.0 ELSE 0.0 END) AS late_share,\n"
       "    avg(CASE WHEN ol.is_returned THEN 1.0 ELSE 0.0 END)   AS return_share\n",
       "    sum(lines.quantity)                                   AS units_shipped,\n"
       "    sum(lines.net_amount)                                 AS revenue,\n"
       "    sum(lines.net_amount - lines.quantity * ps.supply_cost) AS gross_margin,\n"
       "    avg(CASE WHEN lines.days_late > 0 THEN 1.0 ELSE 0.0 END) AS late_share,\n"
       "    avg(CASE WHEN lines.is_returned THEN 1.0 ELSE 0.0 END)   AS return_share\n")]),
    ("slower", "customer LTV: average gap between orders, previous order via a correlated subquery",
     [("replace", LTV,
       "        sum(net_amount) AS order_value\n"
       "    FROM intermediate.int_order_lines\n"
       "    GROUP BY customer_key, order_key, order_date\n"
       ")\n",
       "        sum(net_amount) AS order_value\n"
       "    FROM intermediate.int_order_lines\n"
       "    GROUP BY customer_key, order_key, order_date\n"
       "),\n"
       "order_gaps AS (\n"
       "    SELECT\n"
       "        co.*,\n"
       "        datediff('day', (\n"
       "            SELECT max(prev.order_date)\n"
       "            FROM customer_orders AS prev\n"
       "            WHERE prev.customer_key = co.customer_key\n"
       "              AND prev.order_date < co.order_date\n"
       "        ), co.order_date) AS days_since_previous\n"
       "    FROM customer_orders AS co\n"
       ")\n"),
      ("replace", LTV,
       "    max(co.order_date)       AS last_order_date,\n",
       "    max(co.order_date)       AS last_order_date,\n"
       "    avg(co.days_since_previous) AS avg_days_between_orders,\n"),
      ("replace", LTV, "FROM customer_orders AS co\nJOIN", "FROM order_gaps AS co\nJOIN")]),
    ("faster", "customer LTV: previous order date with lag() instead of the correlated subquery",
     [("replace", LTV,
       "        datediff('day', (\n"
       "            SELECT max(prev.order_date)\n"
       "            FROM customer_orders AS prev\n"
       "            WHERE prev.customer_key = co.customer_key\n"
       "              AND prev.order_date < co.order_date\n"
       "        ), co.order_date) AS days_since_previous\n",
       "        datediff('day',\n"
       "            lag(co.order_date) OVER (PARTITION BY co.customer_key ORDER BY co.order_date),\n"
       "            co.order_date) AS days_since_previous\n")]),
    ("new_model", "new mart: return rates by material, size and ship mode",
     [("write", RETURNS, RETURNS_SQL)]),
    ("select_star", "int_order_lines: keep every order and line column (o.*, l.*)",
     [("replace", ORDER_LINES, ORDER_LINES_EXPLICIT_SELECT,
       "SELECT\n"
       "    o.*,\n"
       "    l.* EXCLUDE (order_key),\n")]),
    ("drop_filter", "stg_lineitem: drop the quantity > 0 check, the source guarantees it",
     [("replace", STG_LINEITEM, "FROM raw.lineitem\nWHERE l_quantity > 0;", "FROM raw.lineitem;")]),
    ("add_window", "int_order_lines: order total and line count on every line",
     [("replace", ORDER_LINES,
       "    p.brand,\n    p.material\n",
       "    p.brand,\n"
       "    p.material,\n"
       "    sum(l.net_amount) OVER (PARTITION BY o.order_key)  AS order_net_amount,\n"
       "    count(*) OVER (PARTITION BY o.order_key)           AS lines_in_order\n")]),
    ("refactor", "monthly revenue: header comment (owner, grain)",
     [("replace", MONTHLY,
       "CREATE OR REPLACE TABLE marts.mart_monthly_revenue AS\n",
       "-- Monthly revenue by customer region.\n"
       "-- Grain: one row per order month and region. Owner: finance analytics.\n"
       "CREATE OR REPLACE TABLE marts.mart_monthly_revenue AS\n")]),
    ("slower", "shipping delays: a row for every ship mode, via a cross join with the modes",
     [("write", SHIPPING_MOVED, SHIPPING_GRID_CROSS)]),
    ("add_join", "supplier performance: add the supplier's region",
     [("replace", SUPPLIERS,
       "    ps.supplier_nation,\n    count(*)",
       "    ps.supplier_nation,\n    r.r_name                                              AS supplier_region,\n    count(*)"),
      ("replace", SUPPLIERS,
       "   AND ps.supplier_key = lines.supplier_key\n"
       "GROUP BY ps.supplier_key, ps.supplier_name, ps.supplier_nation;",
       "   AND ps.supplier_key = lines.supplier_key\n"
       "JOIN raw.nation AS n\n"
       "    ON n.n_name = ps.supplier_nation\n"
       "JOIN raw.region AS r\n"
       "    ON r.r_regionkey = n.n_regionkey\n"
       "GROUP BY ps.supplier_key, ps.supplier_name, ps.supplier_nation, r.r_name;")]),
    ("new_model", "new staging model: stg_suppliers",
     [("write", STG_SUPPLIERS, STG_SUPPLIERS_SQL)]),
    ("refactor", "int_part_suppliers: read suppliers from stg_suppliers",
     [("replace", PART_SUPPLIERS,
       "    supplier.s_suppkey                               AS supplier_key,\n"
       "    trim(supplier.s_name)                            AS supplier_name,\n",
       "    supplier.supplier_key,\n"
       "    supplier.supplier_name,\n"),
      ("replace", PART_SUPPLIERS,
       "JOIN raw.supplier AS supplier\n"
       "    ON supplier.s_suppkey = offer.ps_suppkey\n"
       "JOIN raw.nation AS nation\n"
       "    ON nation.n_nationkey = supplier.s_nationkey\n"
       "WHERE supplier.s_comment NOT LIKE '%Customer%Complaints%';",
       "JOIN staging.stg_suppliers AS supplier\n"
       "    ON supplier.supplier_key = offer.ps_suppkey\n"
       "JOIN raw.nation AS nation\n"
       "    ON nation.n_nationkey = supplier.nation_key\n"
       "WHERE NOT supplier.has_complaints;")]),
    ("faster", "part rankings: parts_ahead_in_brand is rank() - 1, drop the self-join",
     [("write", RANKINGS, RANKINGS_WINDOW)]),
    ("grow_input", "pipeline: production input grows (scale factor 0.5)",
     [("scale_factor", 0.5)]),
    ("add_distinct", "int_order_lines: SELECT DISTINCT, the landing extract replays some orders",
     [("replace", ORDER_LINES, ")\nSELECT\n    o.*,\n", ")\nSELECT DISTINCT\n    o.*,\n")]),
    ("faster", "int_order_lines: drop DISTINCT again, lines are unique by order and line number",
     [("replace", ORDER_LINES, ")\nSELECT DISTINCT\n    o.*,\n", ")\nSELECT\n    o.*,\n")]),
    ("remove_model", "remove mart_return_rates: superseded by return_share in supplier performance",
     [("delete", RETURNS)]),
    ("faster", "raw.lineitem: stop loading the free-text comment column",
     [("write", RAW_LINEITEM, """\
CREATE OR REPLACE TABLE raw.lineitem AS
SELECT
    l_orderkey, l_partkey, l_suppkey, l_linenumber,
    l_quantity, l_extendedprice, l_discount, l_tax,
    l_returnflag, l_linestatus,
    l_shipdate, l_commitdate, l_receiptdate,
    l_shipinstruct, l_shipmode
FROM landing.lineitem;
""")]),
    ("refactor", "customer segments: reformat",
     [("write", SEGMENTS, """\
CREATE OR REPLACE TABLE marts.mart_customer_segments AS
select market_segment,
       region_name,
       count(*) as customers,
       sum(orders) as orders,
       sum(lifetime_value) as lifetime_value,
       avg(lifetime_value) as avg_lifetime_value,
       median(lifetime_value) as median_lifetime_value,
       avg(avg_order_value) as avg_order_value,
       max(last_order_date) as last_order_date
  from marts.mart_customer_ltv
 group by market_segment, region_name;
""")]),
    ("slower", "supplier performance: distinct orders and customers per supplier",
     [("replace", SUPPLIERS,
       "    SELECT part_key, supplier_key, quantity, net_amount, days_late, is_returned\n",
       "    SELECT order_key, customer_key, part_key, supplier_key, quantity, net_amount,\n"
       "           days_late, is_returned\n"),
      ("replace", SUPPLIERS,
       "    count(*)                                           AS lines_shipped,\n",
       "    count(*)                                           AS lines_shipped,\n"
       "    count(DISTINCT lines.order_key)                    AS orders,\n"
       "    count(DISTINCT lines.customer_key)                 AS customers,\n")]),
    ("explicit_columns", "int_order_lines: back to an explicit column list",
     [("replace", ORDER_LINES,
       "SELECT\n    o.*,\n    l.* EXCLUDE (order_key),\n",
       ORDER_LINES_EXPLICIT_SELECT)]),
    ("order_by_no_limit", "stg_orders: store orders sorted by date (zone maps)",
     [("replace", STG_ORDERS,
       "WHERE o_orderdate < DATE '1998-08-01';  -- the last weeks of the extract are incomplete",
       "WHERE o_orderdate < DATE '1998-08-01'  -- the last weeks of the extract are incomplete\n"
       "ORDER BY o_orderdate, o_orderkey;")]),
    ("add_filter", "int_part_suppliers: only offers with stock",
     [("replace", PART_SUPPLIERS,
       "WHERE NOT supplier.has_complaints;",
       "WHERE NOT supplier.has_complaints\n  AND offer.ps_availqty > 0;")]),
    ("faster", "shipping delays: aggregate once, then left join onto the grid",
     [("write", SHIPPING_MOVED, SHIPPING_GRID_LEFT)]),
    ("rename_model", "move customer segments under marts/customers/",
     [("rename", SEGMENTS, SEGMENTS_MOVED)]),
    ("add_window", "monthly revenue: running total and month-over-month growth per region",
     [("replace", MONTHLY,
       "    avg(ol.days_to_ship)                                       AS avg_days_to_ship\n",
       "    avg(ol.days_to_ship)                                       AS avg_days_to_ship,\n"
       "    sum(sum(ol.net_amount)) OVER (PARTITION BY c.region_name ORDER BY ol.order_month)\n"
       "                                                               AS running_net_revenue,\n"
       "    sum(ol.net_amount) / lag(sum(ol.net_amount)) OVER (PARTITION BY c.region_name\n"
       "                                                        ORDER BY ol.order_month) - 1\n"
       "                                                               AS mom_growth\n")]),
    ("new_model", "new mart: order priority SLA per quarter",
     [("write", SLA, SLA_SQL)]),
    ("refactor", "stg_orders: explain the priority parsing",
     [("replace", STG_ORDERS,
       "    CAST(split_part(o_orderpriority, '-', 1) AS INTEGER) AS priority_rank,\n",
       "    -- o_orderpriority looks like '1-URGENT': rank before the dash, name after it\n"
       "    CAST(split_part(o_orderpriority, '-', 1) AS INTEGER) AS priority_rank,\n")]),
    ("add_join", "part rankings: average supply cost and supplier count per part",
     [("replace", RANKINGS,
       "    GROUP BY part_key\n)\n",
       "    GROUP BY part_key\n"
       "),\n"
       "part_supply AS (\n"
       "    SELECT part_key, avg(supply_cost) AS avg_supply_cost, count(*) AS suppliers\n"
       "    FROM intermediate.int_part_suppliers\n"
       "    GROUP BY part_key\n"
       ")\n"),
      ("replace", RANKINGS,
       "    pr.revenue,\n",
       "    pr.revenue,\n    ps.avg_supply_cost,\n    ps.suppliers,\n"),
      ("replace", RANKINGS,
       "    ON p.part_key = pr.part_key;",
       "    ON p.part_key = pr.part_key\n"
       "LEFT JOIN part_supply AS ps\n"
       "    ON ps.part_key = pr.part_key;")]),
]
