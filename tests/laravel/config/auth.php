<?php

// One guard, "header": the test's stand-in for a login (AppServiceProvider).
return [
    'defaults' => ['guard' => 'header'],
    'guards' => ['header' => ['driver' => 'test-header']],
];
