<?php
namespace App;

final class Greeting
{
    public static function text(): string
    {
        return 'Hello from PHP';
    }
}
