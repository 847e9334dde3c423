-- Articles under their reorder point, per warehouse.
SELECT w.code AS warehouse, a.sku, a.name, st.on_hand, a.reorder_point
FROM stock st
JOIN articles a ON a.id = st.article_id
JOIN warehouses w ON w.id = st.warehouse_id
WHERE st.on_hand < a.reorder_point
ORDER BY w.code, a.sku;
