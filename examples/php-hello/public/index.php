<?php
// php-hello: a Laravel-style front controller reduced to one route.
require __DIR__ . '/../src/Greeting.php';
header('Content-Type: application/json');
echo json_encode(['message' => \App\Greeting::text()]);
