<?php
use PHPUnit\Framework\TestCase;

require __DIR__ . '/../src/Greeting.php';

final class GreetingTest extends TestCase
{
    public function testGreets(): void
    {
        $this->assertSame('Hello from PHP', \App\Greeting::text());
    }
}
