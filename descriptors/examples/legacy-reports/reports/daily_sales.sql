-- Yesterday's sales per store and department.
SELECT s.store_code, d.department, SUM(l.quantity) AS units, SUM(l.amount) AS revenue
FROM sales_lines l
JOIN stores s ON s.id = l.store_id
JOIN departments d ON d.id = l.department_id
WHERE l.sold_on = CURRENT_DATE - 1
GROUP BY s.store_code, d.department
ORDER BY s.store_code, d.department;
