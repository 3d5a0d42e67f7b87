<?php

// No templates of its own (the page is a string); Laravel's error pages need a view factory.
return [
    'paths' => [],
    'compiled' => (getenv('LARAVEL_TEST_VAR') ?: sys_get_temp_dir() . '/herald-laravel-test') . '/views',
];
