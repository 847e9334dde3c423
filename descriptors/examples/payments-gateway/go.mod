module git.example.com/acme-retail/payments-gateway

go 1.22
